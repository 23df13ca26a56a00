from arena.api.services import api_images_expire, image_job_execute
from arena.celery import app


@app.task(acks_late=True)
def image_job_run(job_id: str) -> None:
    image_job_execute(job_id=job_id)


@app.task
def api_images_prune_run() -> None:
    api_images_expire()

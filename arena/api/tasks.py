from arena.api.idempotency import idempotent_requests_prune
from arena.api.services import api_images_expire, image_job_execute, image_jobs_requeue_stale
from arena.api.webhooks import webhook_deliver, webhooks_due_send
from arena.celery import app


@app.task(acks_late=True)
def image_job_run(job_id: str) -> None:
    if image_job_execute(job_id=job_id) is not None:
        webhook_deliver(job_id=job_id)  # its first attempt, if the job has a webhook


@app.task
def image_jobs_requeue_stale_run() -> None:
    image_jobs_requeue_stale()


@app.task
def api_images_prune_run() -> None:
    api_images_expire()
    idempotent_requests_prune()


@app.task(acks_late=True)
def webhook_deliver_run(job_id: str) -> None:
    webhook_deliver(job_id=job_id)


@app.task
def webhooks_due_send_run() -> None:
    webhooks_due_send()

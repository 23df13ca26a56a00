from arena.catalog.services import (
    generation_batches_poll,
    generation_execute,
    generations_requeue_stale,
)
from arena.celery import app


@app.task(acks_late=True)
def generation_run(generation_id: int) -> None:
    generation_execute(generation_id=generation_id)


@app.task
def generations_requeue_stale_run() -> None:
    generations_requeue_stale()


@app.task
def generation_batches_poll_run() -> None:
    generation_batches_poll()

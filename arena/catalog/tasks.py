from celery import shared_task

from arena.catalog.services import generation_execute, generations_requeue_stale


@shared_task(acks_late=True)
def generation_run(generation_id: int) -> None:
    generation_execute(generation_id=generation_id)


@shared_task
def generations_requeue_stale_run() -> None:
    generations_requeue_stale()

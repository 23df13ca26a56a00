from celery import shared_task

from arena.ratings.services import ratings_recompute, ratings_refresh, votes_publish


@shared_task
def ratings_refresh_run() -> None:
    ratings_refresh()


@shared_task
def ratings_recompute_run(arena: str) -> None:
    ratings_recompute(arena=arena)


@shared_task
def votes_publish_run() -> None:
    votes_publish()

from arena.celery import app
from arena.ratings.services import ratings_refresh, votes_publish


@app.task
def ratings_refresh_run() -> None:
    ratings_refresh()


@app.task
def votes_publish_run() -> None:
    votes_publish()

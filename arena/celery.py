import os

from celery import Celery
from celery.schedules import crontab

from arena import secret_key_require

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "arena.settings")
secret_key_require()

# Tasks are bound to this app (`@app.task`); processes that never send or run one (a
# management command, say) never import Celery.
app = Celery("arena")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_configure.connect
def schedule(sender: Celery, **kwargs: object) -> None:
    from django.conf import settings

    sender.conf.beat_schedule = {
        "requeue-stale-generations": {
            "task": "arena.catalog.tasks.generations_requeue_stale_run",
            "schedule": float(settings.ARENA_REQUEUE_EVERY_SECONDS),
        },
        "refresh-ratings": {
            "task": "arena.ratings.tasks.ratings_refresh_run",
            "schedule": float(settings.ARENA_RATINGS_EVERY_SECONDS),
        },
        "publish-votes": {
            "task": "arena.ratings.tasks.votes_publish_run",
            "schedule": crontab(hour=settings.ARENA_EXPORT_HOUR, minute=17),
        },
        "prune-api-images": {
            "task": "arena.api.tasks.api_images_prune_run",
            "schedule": float(settings.ARENA_PRUNE_EVERY_SECONDS),
        },
    }

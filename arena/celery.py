import logging
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from celery import Celery, Task, bootsteps
from celery.schedules import crontab
from kombu.exceptions import OperationalError

from arena import secret_key_require

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "arena.settings")
secret_key_require()
logger = logging.getLogger(__name__)

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
        "requeue-stale-image-jobs": {
            "task": "arena.api.tasks.image_jobs_requeue_stale_run",
            "schedule": float(settings.ARENA_REQUEUE_EVERY_SECONDS),
        },
        "poll-generation-batches": {
            "task": "arena.catalog.tasks.generation_batches_poll_run",
            "schedule": float(settings.ARENA_BATCH_POLL_EVERY_SECONDS),
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
        "retry-webhooks": {
            "task": "arena.api.tasks.webhooks_due_send_run",
            "schedule": float(settings.ARENA_WEBHOOK_RETRY_EVERY_SECONDS),
        },
    }


class Heartbeat(bootsteps.StartStopStep):
    """Tell /readyz, while this worker consumes, which queues it serves."""

    requires = ("celery.worker.consumer.tasks:Tasks",)

    def start(self, consumer: Any) -> None:
        from arena.health import heartbeat_start

        self.beating = heartbeat_start([queue.name for queue in consumer.task_consumer.queues])

    def stop(self, consumer: Any) -> None:
        if beating := getattr(self, "beating", None):
            beating.set()


app.steps["consumer"].add(Heartbeat)


def task_send(name: str, *args: object, task_id: str | None = None) -> bool:
    """Send the task registered as `name` (eager mode runs it here and now); False if the
    broker could not take it (see _broker_guard), for a caller that must say so at once.

    Services send their tasks by name: a tasks module imports its service, so the service
    importing the tasks module back would close a circle.
    """
    with _broker_guard(name):
        _task(name).apply_async(args=args, task_id=task_id)
        return True
    return False


def tasks_send(name: str, calls: Iterable[tuple[object, ...]]) -> None:
    """Send one `name` task per argument tuple, as one Celery group."""
    from celery import group

    task = _task(name)
    with _broker_guard(name):
        group(task.s(*args) for args in calls).apply_async()


@contextmanager
def _broker_guard(name: str) -> Iterator[None]:
    """A broker that is away (Redis restarting) loses the message, not the request that sent
    it: what the task was for stays in the database (a queued generation, a stale rating),
    and beat's passes send it again once the broker is back."""
    try:
        yield
    except OperationalError as error:
        logger.warning(
            "The task broker is unreachable (%s); %s was not sent this time.", error, name
        )


def _task(name: str) -> Task:
    if name not in app.tasks:
        # A web process has not imported the apps' tasks modules yet; a worker has.
        app.loader.import_default_modules()
    return app.tasks[name]

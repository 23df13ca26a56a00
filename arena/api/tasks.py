from datetime import timedelta

from django.conf import settings

from arena.api.services import api_images_prune
from arena.celery import app


@app.task
def api_images_prune_run() -> None:
    api_images_prune(older_than=timedelta(hours=settings.ARENA_API_IMAGE_HOURS))

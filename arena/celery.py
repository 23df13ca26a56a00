import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "arena.settings")

# Tasks are bound to this app (`@app.task`); processes that never send or run one (a
# management command, say) never import Celery.
app = Celery("arena")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

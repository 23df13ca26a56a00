import os

from django.core.wsgi import get_wsgi_application

from arena import secret_key_require

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "arena.settings")

secret_key_require()
application = get_wsgi_application()

"""Image Arena, the Django project."""


def secret_key_require() -> None:
    """Refuse to start a process that signs sessions, tokens and cookies without a SECRET_KEY.

    Called where the web (arena.wsgi) and worker (arena.celery) processes start; settings
    alone do not insist, so that a command that signs nothing runs on a plain checkout.
    """
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured

    try:
        settings.SECRET_KEY  # noqa: B018 - Django refuses an empty key when it is read
    except ImproperlyConfigured:
        raise ImproperlyConfigured("Set SECRET_KEY (or DEBUG=1 for a local demo).") from None

"""Settings come from the environment, with safe defaults and clear refusals."""

import os
import subprocess
import sys


def environment(env: dict[str, str]) -> dict[str, str]:
    """The machine's environment without anything the test run itself sets, plus `env`."""
    ours = {
        "DEBUG", "SECRET_KEY", "DATABASE_URL", "REDIS_URL", "CELERY_TASK_ALWAYS_EAGER",
        "ARENA_HTTPS",
    }  # fmt: skip
    clean = {k: v for k, v in os.environ.items() if k not in ours}
    return {**clean, "DJANGO_SETTINGS_MODULE": "arena.settings", **env}


def settings_in(env: dict[str, str], expression: str) -> subprocess.CompletedProcess[str]:
    code = f"import django; django.setup(); from django.conf import settings; print({expression})"
    return subprocess.run(
        [sys.executable, "-c", code],
        env=environment(env),
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_secret_key_is_required_when_debug_is_off():
    result = settings_in({}, "settings.SECRET_KEY")

    assert result.returncode != 0
    assert "Set SECRET_KEY" in result.stderr


def test_embedded_default_is_sqlite_eager_celery_and_local_cache(tmp_path):
    result = settings_in(
        {"DEBUG": "1", "ARENA_VAR_DIR": str(tmp_path)},
        "settings.DATABASES['default']['ENGINE'], settings.CELERY_TASK_ALWAYS_EAGER, "
        "settings.CACHES['default']['BACKEND'].rsplit('.', 1)[-1]",
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "django.db.backends.sqlite3 True LocMemCache"


def test_production_shape_reads_database_and_redis_urls():
    result = settings_in(
        {
            "SECRET_KEY": "x" * 50,
            "DATABASE_URL": "postgres://arena:pw@db.example:5432/arena",
            "REDIS_URL": "redis://cache.example:6379/0",
            "ALLOWED_HOSTS": "arena.example",
        },
        "settings.DATABASES['default']['HOST'], settings.CELERY_TASK_ALWAYS_EAGER, "
        "settings.CELERY_BROKER_URL, settings.ALLOWED_HOSTS",
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (
        "db.example False redis://cache.example:6379/0 ['arena.example']"
    )

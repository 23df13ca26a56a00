"""Settings come from the environment, with safe defaults and clear refusals."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parents[2]


def environment(env: dict[str, str]) -> dict[str, str]:
    """The machine's environment without anything the test run itself sets, plus `env`."""
    ours = {
        "DEBUG", "SECRET_KEY", "DATABASE_URL", "REDIS_URL", "CELERY_TASK_ALWAYS_EAGER",
        "ARENA_HTTPS",
        # the browser tests' (tests/browser/conftest.py), which a deploy check warns about
        "DJANGO_ALLOW_ASYNC_UNSAFE",
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


def run_clean(args: list[str], env: dict[str, str] | None = None):
    """Run a Python process as on a plain checkout: none of the test run's settings."""
    ours = {"DEBUG", "SECRET_KEY", "DATABASE_URL", "REDIS_URL", "CELERY_TASK_ALWAYS_EAGER"}
    clean = {k: v for k, v in os.environ.items() if k not in ours}
    return subprocess.run(
        [sys.executable, *args],
        env={**clean, **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
        cwd=BASE_DIR,
    )


@pytest.mark.parametrize("module", ["arena.wsgi", "arena.celery"])
def test_web_and_worker_processes_refuse_to_start_without_a_secret_key(module):
    result = run_clean(["-c", f"import {module}"])

    assert result.returncode != 0
    assert "Set SECRET_KEY" in result.stderr


def test_web_process_starts_with_a_secret_key():
    result = run_clean(["-c", "import arena.wsgi"], {"SECRET_KEY": "x" * 50})

    assert result.returncode == 0, result.stderr


def test_the_leaderboard_is_reproduced_from_a_vote_file_without_a_secret_key(tmp_path):
    votes = tmp_path / "votes.jsonl"
    line = (
        '{{"model_a": "{a}", "model_b": "{b}", "winner": "model_a", "tstamp": 1730000000.5, '
        '"arena": "t2i", "prompt_id": 1, "judge": "j{i}"}}'
    )
    votes.write_text(
        "\n".join(line.format(a="lumen", b="sketch", i=i) for i in range(20))
        + "\n"
        + "\n".join(line.format(a="sketch", b="lumen", i=i) for i in range(5))
        + "\n"
    )

    result = run_clean(["manage.py", "ratings_compute", "--votes", str(votes), "--min-votes", "1"])

    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert [row["model"] for row in rows][:2] == ["lumen", "sketch"]


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

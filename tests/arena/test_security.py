"""The site's security settings: a Content-Security-Policy with no inline script or style, HTTPS
only whenever DEBUG is off, and rate-limit counters that every process of a deployment shares."""

import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection
from django.test import Client

from tests.arena.test_settings import environment, settings_in

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db


def test_pages_send_a_policy_that_allows_only_this_site(client):
    policy = client.get("/")["Content-Security-Policy"]

    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["default-src"] == "'self'"
    assert directives["object-src"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe" not in policy
    assert "nonce" not in policy


def test_no_template_or_admin_html_carries_inline_script_or_style():
    # Data blocks (JSON, JSON-LD) are never run, so the policy does not cover them.
    inline_script = re.compile(
        r"<script(?![^>]*\b(src|type=\"application/(ld\+)?json\"))[^>]*>", re.I
    )
    inline_style = re.compile(r"<style\b|\sstyle\s*=|\son[a-z]+\s*=", re.IGNORECASE)
    python_html = re.compile(r"<script|<style\b|\sstyle=[\"']", re.IGNORECASE)
    offenders = [
        str(path.relative_to(ROOT))
        for path in ROOT.glob("templates/**/*.html")
        if inline_script.search(path.read_text()) or inline_style.search(path.read_text())
    ] + [
        str(path.relative_to(ROOT))
        for path in ROOT.glob("arena/**/*.py")
        if python_html.search(path.read_text())
    ]

    assert offenders == []


def test_htmx_is_told_not_to_inject_its_indicator_style(client):
    page = client.get("/").content.decode()

    assert '"includeIndicatorStyles": false' in page


def test_https_only_whenever_debug_is_off():
    result = settings_in(
        {"SECRET_KEY": "x" * 50},
        "settings.SECURE_SSL_REDIRECT, settings.SECURE_HSTS_SECONDS, "
        "settings.SECURE_HSTS_INCLUDE_SUBDOMAINS, settings.SECURE_HSTS_PRELOAD, "
        "settings.SESSION_COOKIE_SECURE, settings.CSRF_COOKIE_SECURE, "
        "settings.SECURE_CROSS_ORIGIN_OPENER_POLICY, settings.X_FRAME_OPTIONS",
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "True", "31536000", "True", "True", "True", "True", "same-origin", "DENY",
    ]  # fmt: skip


def test_a_plain_http_production_run_turns_https_off_with_one_variable():
    result = settings_in(
        {"SECRET_KEY": "x" * 50, "ARENA_HTTPS": "0"},
        "settings.SECURE_SSL_REDIRECT, settings.SECURE_HSTS_SECONDS, "
        "settings.SESSION_COOKIE_SECURE, settings.CSRF_COOKIE_SECURE",
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "0", "False", "False"]


def test_each_https_setting_is_overridable_on_its_own():
    result = settings_in(
        {"SECRET_KEY": "x" * 50, "SECURE_SSL_REDIRECT": "0", "SECURE_HSTS_PRELOAD": "0"},
        "settings.SECURE_SSL_REDIRECT, settings.SECURE_HSTS_PRELOAD, settings.SECURE_HSTS_SECONDS",
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "False", "31536000"]


def test_images_from_an_absolute_media_url_are_allowed_by_the_policy():
    result = settings_in(
        {"SECRET_KEY": "x" * 50, "MEDIA_URL": "https://cdn.example/media/"},
        "settings.SECURE_CSP['img-src']",
    )

    assert result.returncode == 0, result.stderr
    assert "https://cdn.example" in result.stdout


@pytest.mark.parametrize("redis", [False, True], ids=["database-cache", "redis"])
def test_deploy_check_finds_nothing_to_warn_about_in_production_settings(tmp_path, redis):
    env = {
        "SECRET_KEY": secrets.token_urlsafe(64),
        "ALLOWED_HOSTS": "arena.example",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'arena.sqlite3'}",
        "ARENA_VAR_DIR": str(tmp_path),
        **({"REDIS_URL": "redis://127.0.0.1:6379/13"} if redis else {}),
    }
    result = manage(env, "check", "--deploy", "--fail-level", "WARNING")

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
    assert "WARNING" not in result.stdout + result.stderr


def test_production_without_redis_caches_in_the_database_and_the_demo_in_memory(tmp_path):
    production = settings_in(
        {"SECRET_KEY": "x" * 50},
        "settings.CACHES['default']['BACKEND'], settings.SESSION_ENGINE.rsplit('.', 1)[-1]",
    )
    demo = settings_in(
        {"DEBUG": "1", "ARENA_VAR_DIR": str(tmp_path)}, "settings.CACHES['default']['BACKEND']"
    )

    assert production.stdout.split() == ["arena.cache.DatabaseCache", "db"]
    assert demo.stdout.strip() == "django.core.cache.backends.locmem.LocMemCache"


COUNT = """
import sys
import django
django.setup()
from arena.ratelimit import CAPS, window_count
daily = next(cap for cap in CAPS if cap.action == "vote" and cap.seconds == 86400)
for _ in range(int(sys.argv[1])):
    window_count(daily, "203.0.113.7")
"""

LAST = """
import django
django.setup()
from django.db import connection
from django.test import Client
from django.utils import timezone
from arena.ratelimit import CAPS, window_count
daily = next(cap for cap in CAPS if cap.action == "vote" and cap.seconds == 86400)
print(window_count(daily, "203.0.113.7").current)
with connection.cursor() as cursor:
    cursor.execute("SELECT MIN(expires) FROM arena_cache")
    expires = cursor.fetchone()[0]
if isinstance(expires, str):
    from datetime import datetime, UTC
    expires = datetime.fromisoformat(expires).replace(tzinfo=UTC)
print(int((expires - timezone.now()).total_seconds()))
"""


def database_urls(tmp_path):
    yield "sqlite", f"sqlite:///{tmp_path / 'arena.sqlite3'}"
    if connection.vendor == "postgresql":
        # The test database itself, seen from other processes (the test writes nothing).
        settings = connection.settings_dict
        yield (
            "postgresql",
            f"postgres://{settings['USER']}@{settings['HOST']}:{settings['PORT']}/"
            f"{settings['NAME']}",
        )


@pytest.mark.django_db(transaction=True)
def test_processes_without_redis_share_one_count_through_the_database_cache(tmp_path):
    per_process = 40
    for vendor, url in database_urls(tmp_path):
        env = {"SECRET_KEY": "x" * 50, "DATABASE_URL": url, "ARENA_VAR_DIR": str(tmp_path)}
        migrated = manage(env, "migrate", "--noinput")  # creates the cache table
        assert migrated.returncode == 0, migrated.stderr

        counters = [
            python(env, COUNT, str(per_process), wait=False) for _ in range(2)
        ]  # two web workers counting at the same time
        for counter in counters:
            _, errors = counter.communicate(timeout=120)
            assert counter.returncode == 0, errors

        last = python(env, LAST)
        assert last.returncode == 0, last.stderr
        count, seconds_left = map(int, last.stdout.split())
        assert count == 2 * per_process + 1, vendor  # not one count lost
        assert seconds_left > 86000, vendor  # a daily window keeps its day, not 5 minutes


def manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args],
        env=environment(env),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def python(env: dict[str, str], code: str, *args: str, wait: bool = True):
    command = [sys.executable, "-c", code, *args]
    if not wait:
        return subprocess.Popen(
            command, env=environment(env), cwd=ROOT, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
    return subprocess.run(
        command, env=environment(env), cwd=ROOT, capture_output=True, text=True, timeout=120
    )


def test_a_refused_form_gets_a_site_page_without_inline_style():
    # Django's own CSRF failure page carries a <style> that the policy would block.
    response = Client(enforce_csrf_checks=True).post("/battle/t2i/", {"choice": "left"})

    assert response.status_code == 403
    assert "403_csrf.html" in [template.name for template in response.templates]
    page = response.content.decode()
    assert 'class="site-header"' in page
    assert "<style" not in page

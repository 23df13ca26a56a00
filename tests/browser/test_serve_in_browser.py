"""`make serve`'s stack in Chromium: deploy/serve.sh (nginx with TLS in front of gunicorn, the
workers and beat, DEBUG off, secure cookies) on a port of its own. Over https a visitor keeps
their session, votes, and a curator signs in to the admin; battle images come through nginx's
X-Accel-Redirect without the headers that would date them."""

import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
PORT = 18843
PROMPTS = """
[[t2i]]
text = "A red ball on the left and a blue cube on the right"
tags = ["positions"]

[[t2i]]
text = "Three yellow stars above a green hill at night"
tags = ["counts"]
"""


def postgres_url() -> str:
    """The test run's PostgreSQL, with a database of the stack's own."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        pytest.skip("make serve runs on PostgreSQL (required under CI=true)")
    parts = urlsplit(url)
    return parts._replace(path=f"{parts.path}_served").geturl()


def drop_database(url: str) -> None:
    parts = urlsplit(url)
    admin = parts._replace(path="/postgres").geturl().replace("postgres://", "postgresql://", 1)
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {parts.path.lstrip('/')} WITH (FORCE)")


@pytest.fixture
def served():
    if not shutil.which("nginx"):
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("Debian's nginx is missing: `make test` installs it")
        pytest.skip("needs Debian's nginx (make nginx installs it)")
    if not os.environ.get("REDIS_URL"):
        pytest.skip("make serve runs on Redis (required under CI=true)")
    database_url = postgres_url()
    drop_database(database_url)
    # Not under pytest's scratch (mode 700): nginx's workers run as nobody when the tests run
    # as root, and must reach the socket and the media.
    scratch = Path(tempfile.mkdtemp(prefix="arena-serve-test-"))
    scratch.chmod(0o755)
    (scratch / "prompts.toml").write_text(PROMPTS)
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "PORT": str(PORT),
        "SERVE_DIR": str(scratch / "serve"),
        "SEED_ARGS": f"--votes 0 --prompts {scratch / 'prompts.toml'}",
        "ARENA_RENDITIONS": "1",
        "ARENA_IMAGE_SIZE": "256",
        "GATEWAY_LOCAL_LATENCY_SCALE": "0",
    }
    for name in ("SECRET_KEY", "ALLOWED_HOSTS", "ARENA_HTTPS", "CELERY_TASK_ALWAYS_EAGER"):
        env.pop(name, None)  # the test run's plain-http settings: the stack sets its own
    stack = subprocess.Popen(
        [str(ROOT / "deploy" / "serve.sh")],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        output = []
        for line in stack.stdout:
            output.append(line.decode())
            if "Image Arena is at" in output[-1]:
                break
        else:
            pytest.fail("deploy/serve.sh stopped before serving:\n" + "".join(output))
        subprocess.run(
            [str(ROOT / ".venv/bin/python"), "manage.py", "createsuperuser", "--noinput"],
            env={
                **env,
                "SECRET_KEY": (scratch / "serve" / "secret_key").read_text().strip(),
                "DB_POOL": "0",
                "DJANGO_SUPERUSER_USERNAME": "curator",
                "DJANGO_SUPERUSER_EMAIL": "curator@example.org",
                "DJANGO_SUPERUSER_PASSWORD": "a-long-curator-password",
            },
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
        yield f"https://127.0.0.1:{PORT}"
    finally:
        stack.send_signal(signal.SIGINT)  # Ctrl-C: serve.sh stops what it started
        stack.wait(timeout=60)
        drop_database(database_url)
        shutil.rmtree(scratch)


def test_over_tls_a_visitor_keeps_the_session_votes_and_a_curator_signs_in(browser, served):
    context = browser.new_context(ignore_https_errors=True)
    page = context.new_page()

    page.goto(f"{served}/battle/t2i/")
    image = page.request.get(served + page.locator("[data-side] img").first.get_attribute("src"))
    page.get_by_role("button", name="A is better").click()
    page.wait_for_selector("[data-model]")
    session = {c["name"]: c for c in context.cookies()}["sessionid"]
    page.goto(f"{served}/battle/t2i/")
    page.get_by_role("button", name="B is better").click()
    page.wait_for_selector("[data-model]")

    assert session["secure"]
    assert session["httpOnly"]
    assert {c["name"]: c for c in context.cookies()}["sessionid"]["value"] == session["value"]
    assert image.status == 200
    assert image.headers["content-type"] == "image/png"
    assert image.body()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "etag" not in image.headers
    assert "last-modified" not in image.headers

    page.goto(f"{served}/admin/")
    page.fill("#id_username", "curator")
    page.fill("#id_password", "a-long-curator-password")
    page.get_by_role("button", name="Log in").click()

    assert page.url == f"{served}/admin/"
    assert page.get_by_text("Site administration").is_visible()
    context.close()

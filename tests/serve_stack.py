"""`make serve`'s stack for tests with real processes: deploy/serve.sh (nginx with TLS in front
of gunicorn, the workers and beat, DEBUG off) on a port and a PostgreSQL database of its own,
stopped as Ctrl-C stops it."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest

ROOT = Path(__file__).resolve().parents[1]
PROMPTS = """
[[t2i]]
text = "A red ball on the left and a blue cube on the right"
tags = ["positions"]

[[t2i]]
text = "Three yellow stars above a green hill at night"
tags = ["counts"]
"""


@dataclass(frozen=True)
class Stack:
    url: str  # nginx, https
    serve_dir: Path
    env: dict[str, str]  # the stack's environment, its SECRET_KEY included

    @property
    def database_url(self) -> str:
        return self.env["DATABASE_URL"].replace("postgres://", "postgresql://", 1)

    def manage(self, *args: str, **env: str) -> subprocess.CompletedProcess[bytes]:
        """A management command against the stack's database, as its processes see it."""
        return subprocess.run(
            [str(ROOT / ".venv/bin/python"), "manage.py", *args],
            env={**self.env, "DB_POOL": "0", **env},
            cwd=ROOT,
            check=True,
            capture_output=True,
        )


def postgres_url(suffix: str) -> str:
    """The test run's PostgreSQL, with a database of the stack's own."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        pytest.skip("make serve runs on PostgreSQL (required under CI=true)")
    parts = urlsplit(url)
    return parts._replace(path=f"{parts.path}_{suffix}").geturl()


def drop_database(url: str) -> None:
    parts = urlsplit(url)
    admin = parts._replace(path="/postgres").geturl().replace("postgres://", "postgresql://", 1)
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {parts.path.lstrip('/')} WITH (FORCE)")


@contextmanager
def serve_stack(*, port: int, database: str, **environ: str) -> Iterator[Stack]:
    """deploy/serve.sh with the two demo prompts seeded, no votes, `environ` added."""
    if not shutil.which("nginx"):
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("Debian's nginx is missing: `make test` installs it")
        pytest.skip("needs Debian's nginx (make nginx installs it)")
    if not os.environ.get("REDIS_URL"):
        pytest.skip("make serve runs on Redis (required under CI=true)")
    database_url = postgres_url(database)
    drop_database(database_url)
    # Not under pytest's scratch (mode 700): nginx's workers run as nobody when the tests run
    # as root, and must reach the socket and the media.
    scratch = Path(tempfile.mkdtemp(prefix="arena-serve-test-"))
    scratch.chmod(0o755)
    (scratch / "prompts.toml").write_text(PROMPTS)
    serve_dir = scratch / "serve"
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "PORT": str(port),
        "SERVE_DIR": str(serve_dir),
        "SEED_ARGS": f"--votes 0 --prompts {scratch / 'prompts.toml'}",
        "ARENA_RENDITIONS": "1",
        "ARENA_IMAGE_SIZE": "256",
        "GATEWAY_LOCAL_LATENCY_SCALE": "0",
        **environ,
    }
    for name in ("SECRET_KEY", "ALLOWED_HOSTS", "ARENA_HTTPS", "CELERY_TASK_ALWAYS_EAGER"):
        env.pop(name, None)  # the test run's plain-http settings: the stack sets its own
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # the browser tests', not production's
    stack = subprocess.Popen(
        [str(ROOT / "deploy" / "serve.sh")],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        output = []
        assert stack.stdout is not None
        for line in stack.stdout:
            output.append(line.decode())
            if "Image Arena is at" in output[-1]:
                break
        else:
            pytest.fail("deploy/serve.sh stopped before serving:\n" + "".join(output))
        env["SECRET_KEY"] = (serve_dir / "secret_key").read_text().strip()
        yield Stack(f"https://127.0.0.1:{port}", serve_dir, env)
    finally:
        # What Ctrl-C does (serve.sh traps INT and TERM alike). Not SIGINT itself: under
        # pytest-xdist the worker ignores it, so the shell started here would too, and a shell
        # cannot trap a signal ignored on entry.
        stack.send_signal(signal.SIGTERM)
        try:
            stack.wait(timeout=60)
        finally:
            # Whatever of the stack is left (its own session: nothing else is in the group)
            # must not hold the port for the next run.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(stack.pid, signal.SIGKILL)
            drop_database(database_url)
            shutil.rmtree(scratch)

"""Load on the production shape: simulated visitors against `deploy/serve.sh` (nginx with TLS,
gunicorn, the workers and beat, PostgreSQL, Redis), at 4, 16 and 64 at once. Each visitor
opens a battle page and votes on it (htmx), again and again, on its own session, as a browser
does: the first battle is a whole page, and each next one comes from the revealed battle's
"Next battle" link, which htmx fetches as the battle alone (LOAD_PAGES=full asks for the whole
page every time, the shape the figures before 2026-12-07 were taken in). Printed per
level: pairs (page + vote) per second, p50/p99 of page and vote, errors, and the web server's
CPU per pair read from /proc of the gunicorn processes, a figure a noisy machine moves far less
than the rates; beside it, the CPU per pair of PostgreSQL (the backends serving the bench's
database), nginx and the simulated visitors, which share the machine's cores with the server.
Then the integrity check: votes accepted == votes stored, no battle with two votes, the Elo
ratings of each arena summing to 1000 per model.

Starts its own stack (database `arena_load`, or ARENA_LOAD_DATABASE; Redis db 13, or
ARENA_LOAD_REDIS_DB; https port 18943), seeded small with production's three renditions
of each image (ARENA_RENDITIONS), and stops it after. LOAD_SECONDS sets
each level's length (20), LOAD_VISITORS the levels ("4,16,64").
"""

from __future__ import annotations

import http.client
import os
import re
import resource
import signal
import ssl
import statistics
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

import psycopg

ROOT = Path(__file__).resolve().parents[2]
DATABASE = os.environ.get("ARENA_LOAD_DATABASE", "arena_load")
REDIS_DB = os.environ.get("ARENA_LOAD_REDIS_DB", "13")
PORT = int(os.environ.get("ARENA_LOAD_PORT", "18943"))
SECONDS = float(os.environ.get("LOAD_SECONDS", "20"))
LEVELS = [int(n) for n in os.environ.get("LOAD_VISITORS", "4,16,64").split(",")]
# "htmx": the next battles as the page's own link fetches them; "full": a whole page each time.
PAGES = os.environ.get("LOAD_PAGES", "htmx")
GOALS = {"cpu ms per pair": 10, "pairs/s": 150, "p99 ms at 16": 250}
TOKEN = re.compile(r'action="/battle/([^/"]+)/"')
NEXT = re.compile(r'class="button primary next"[^>]*hx-get="([^"]+)"')
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
TICKS = os.sysconf("SC_CLK_TCK")
# The stack's certificate is one deploy/serve.sh made for 127.0.0.1.
UNVERIFIED = ssl.create_default_context()
UNVERIFIED.check_hostname = False
UNVERIFIED.verify_mode = ssl.CERT_NONE


@dataclass
class Tally:
    pages: list[float] = field(default_factory=list)
    votes: list[float] = field(default_factory=list)
    accepted: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def error(self, what: str) -> None:
        with self.lock:
            self.errors[what] = self.errors.get(what, 0) + 1


class Browser:
    """One simulated visitor's browser: a kept-alive TLS connection and its cookies.

    The standard library's http.client, not httpx: httpx's Python layers cost the bench about
    1.7 ms of CPU per page + vote pair, http.client about 0.5, on the cores the server shares.
    """

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.cookies: dict[str, str] = {}
        self.connection: http.client.HTTPSConnection | None = None

    def request(
        self,
        method: str,
        path: str,
        body: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, str]:
        if self.connection is None:
            self.connection = http.client.HTTPSConnection(
                self.host, self.port, context=UNVERIFIED, timeout=30
            )
        sent = dict(headers or {})
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        try:
            self.connection.request(method, path, body=body, headers=sent)
            answer = self.connection.getresponse()
            text = answer.read().decode()
        except (OSError, http.client.HTTPException):
            self.close()
            raise
        for cookie in answer.headers.get_all("Set-Cookie") or []:
            name, _, rest = cookie.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        if answer.getheader("Connection", "").lower() == "close":
            self.close()
        return answer.status, text

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None


def visitor(host: str, port: int, tally: Tally, stop: threading.Event) -> None:
    browser = Browser(host, port)
    referer = f"https://{host}:{port}/battle/t2i/"
    # The first battle is a page; the "Next battle" link of a revealed one is fetched by htmx.
    next_path, next_headers = "/battle/t2i/", {}
    try:
        while not stop.is_set():
            try:
                started = time.perf_counter()
                status, page = browser.request("GET", next_path, headers=next_headers)
                page_seconds = time.perf_counter() - started
                token = TOKEN.search(page) if status == 200 else None
                if token is None:
                    tally.error(f"page {status}")
                    continue
                started = time.perf_counter()
                vote, revealed = browser.request(
                    "POST",
                    f"/battle/{token[1]}/",
                    body=urlencode(
                        {"choice": "left", "csrfmiddlewaretoken": CSRF.search(page)[1]}
                    ),
                    headers={
                        "Content-Type": "application/x-www-form-urlencoded",
                        "HX-Request": "true",
                        "Referer": referer,
                    },
                )
                vote_seconds = time.perf_counter() - started
                link = NEXT.search(revealed) if vote == 200 and PAGES == "htmx" else None
                if link is not None:
                    next_path, next_headers = (
                        link[1],
                        {"HX-Request": "true", "HX-Target": "battle"},
                    )
            except (OSError, http.client.HTTPException) as exc:
                tally.error(type(exc).__name__)
                continue
            with tally.lock:
                tally.pages.append(page_seconds)
                if vote == 200:
                    tally.votes.append(vote_seconds)
                    tally.accepted += 1
                else:
                    tally.errors[f"vote {vote}"] = tally.errors.get(f"vote {vote}", 0) + 1
    finally:
        browser.close()


def tree_cpu_seconds(pidfile: Path) -> float:
    """User + system CPU of a master process (gunicorn's, nginx's) and its workers (children)."""
    master = int(pidfile.read_text())
    pids = [master]
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == master:
                pids.append(int(entry.name))
    return sum(cpu_seconds(pid) for pid in pids)


def cpu_seconds(pid: int) -> float:
    """User + system CPU of one process so far (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime


def postgres_cpu_seconds(dsn: str) -> dict[int, float]:
    """CPU so far of each PostgreSQL backend serving the bench's database (the pools' connections
    of the web and the workers), by process id."""
    with psycopg.connect(dsn) as db:
        pids = db.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid()"
        ).fetchall()
    return {pid: cpu_seconds(pid) for (pid,) in pids}


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")


def own_cpu_seconds() -> float:
    """User + system CPU of this process: the simulated visitors (TLS, HTTP, parsing)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run_level(visitors: int, serve_dir: Path, dsn: str) -> dict[str, float]:
    tally, stop = Tally(), threading.Event()
    threads = [
        threading.Thread(target=visitor, args=("127.0.0.1", PORT, tally, stop))
        for _ in range(visitors)
    ]
    gunicorn, nginx = serve_dir / "gunicorn.pid", serve_dir / "nginx" / "nginx.pid"
    cpu_before = [tree_cpu_seconds(gunicorn), tree_cpu_seconds(nginx), own_cpu_seconds()]
    postgres_before = postgres_cpu_seconds(dsn)
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    time.sleep(SECONDS)
    stop.set()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    cpu, nginx_cpu, client_cpu = (
        after - before
        for after, before in zip(
            [tree_cpu_seconds(gunicorn), tree_cpu_seconds(nginx), own_cpu_seconds()],
            cpu_before,
            strict=True,
        )
    )
    postgres_cpu = sum(
        seconds - postgres_before.get(pid, 0.0)
        for pid, seconds in postgres_cpu_seconds(dsn).items()
    )
    pairs = len(tally.votes)
    row = {
        "visitors": visitors,
        "pairs/s": pairs / elapsed,
        "page p50": 1000 * percentile(tally.pages, 0.5),
        "page p99": 1000 * percentile(tally.pages, 0.99),
        "vote p50": 1000 * percentile(tally.votes, 0.5),
        "vote p99": 1000 * percentile(tally.votes, 0.99),
        "cpu ms/pair": 1000 * cpu / pairs if pairs else float("nan"),
        "nginx ms/pair": 1000 * nginx_cpu / pairs if pairs else float("nan"),
        "client ms/pair": 1000 * client_cpu / pairs if pairs else float("nan"),
        "postgres ms/pair": 1000 * postgres_cpu / pairs if pairs else float("nan"),
        "accepted": tally.accepted,
    }
    print(
        f"  {visitors:>3} visitors: {row['pairs/s']:6.1f} pairs/s (battles/s = votes/s), "
        f"page p50 {row['page p50']:5.1f} p99 {row['page p99']:6.1f} ms, "
        f"vote p50 {row['vote p50']:5.1f} p99 {row['vote p99']:6.1f} ms, "
        f"server CPU {row['cpu ms/pair']:5.1f} ms/pair, errors {tally.errors or 0}\n"
        f"{'':17}CPU beside the server: PostgreSQL {row['postgres ms/pair']:4.1f} ms/pair, "
        f"nginx {row['nginx ms/pair']:4.1f}, the simulated visitors {row['client ms/pair']:4.1f}"
    )
    return row


def integrity(dsn: str, accepted: int, votes_before: int) -> bool:
    with psycopg.connect(dsn) as db:
        stored = db.execute("SELECT count(*) FROM battles_vote").fetchone()[0] - votes_before
        doubled = db.execute(
            "SELECT count(*) FROM (SELECT battle_id FROM battles_vote GROUP BY battle_id "
            "HAVING count(*) > 1) d"
        ).fetchone()[0]
        sums = db.execute(
            "SELECT arena, sum(rating), count(*) FROM battles_elorating GROUP BY arena"
        ).fetchall()
    conserved = all(abs(total - 1000.0 * n) < 1e-6 * n for _, total, n in sums)
    print(
        f"  integrity: {accepted} votes accepted, {stored} stored; "
        f"{doubled} battles with two votes; Elo sums "
        + ", ".join(f"{arena} {total:.6f} for {n} models" for arena, total, n in sums)
    )
    return stored == accepted and doubled == 0 and conserved


def start_stack(serve_dir: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{DATABASE}",
        "REDIS_URL": f"redis://127.0.0.1:6379/{REDIS_DB}",
        "PORT": str(PORT),
        "SERVE_DIR": str(serve_dir),
        "SEED_ARGS": "--votes 0",
        "ARENA_RENDITIONS": os.environ.get("ARENA_RENDITIONS", "3"),  # production's default
        "ARENA_IMAGE_SIZE": "256",
        # Each simulated visitor votes several times a second, all from one address.
        "ARENA_VOTES_PER_MINUTE": "0",
        "ARENA_VOTES_PER_DAY": "0",
        "ARENA_IP_VOTES_PER_MINUTE": "0",
        "ARENA_IP_VOTES_PER_DAY": "0",
        "GATEWAY_LOCAL_LATENCY_SCALE": "0",
    }
    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as c:
        c.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
    stack = subprocess.Popen(
        [str(ROOT / "deploy" / "serve.sh")],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    assert stack.stdout is not None
    for line in stack.stdout:
        if b"Image Arena is at" in line:
            return stack
    raise RuntimeError(f"deploy/serve.sh stopped before serving (logs: {serve_dir}/log)")


def main() -> None:
    serve_dir = Path(tempfile.mkdtemp(prefix="arena-load-"))
    # nginx's workers run as nobody when the bench runs as root: they must reach the media.
    serve_dir.chmod(0o755)
    print(f"  starting deploy/serve.sh on https://127.0.0.1:{PORT}/ (logs: {serve_dir}/log)")
    stack = start_stack(serve_dir)
    try:
        dsn = f"postgresql://postgres@127.0.0.1:5432/{DATABASE}"
        with psycopg.connect(dsn) as db:
            votes_before = db.execute("SELECT count(*) FROM battles_vote").fetchone()[0]
        rows = [run_level(visitors, serve_dir, dsn) for visitors in LEVELS]
        held = integrity(dsn, sum(int(row["accepted"]) for row in rows), votes_before)
        cpu = statistics.median(row["cpu ms/pair"] for row in rows)
        best = max(row["pairs/s"] for row in rows)
        print(
            f"  median server CPU {cpu:.1f} ms/pair (goal <= {GOALS['cpu ms per pair']}), "
            f"best {best:.0f} pairs/s (goal >= {GOALS['pairs/s']}); integrity "
            + ("held" if held else "BROKEN")
        )
    finally:
        os.killpg(stack.pid, signal.SIGTERM)
        stack.wait(timeout=60)

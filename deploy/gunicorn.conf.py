"""gunicorn for Image Arena: `gunicorn -c deploy/gunicorn.conf.py arena.wsgi`.

Sized by measurement (`python -m tests.bench load`, README "Load"), not by formula: a page or
a vote is mostly Python holding the GIL, with short waits on PostgreSQL and Redis, so one
process per core keeps the cores busy and a few threads per process cover the waits. On the
2-core machine, at 16 and 64 simulated visitors (preliminary: other jobs were loading it):

    workers x threads   pairs/s at 16   p99 ms at 16 (page, vote)   p99 ms at 64   CPU ms/pair
    2 x 4 (this)        40              512, 583                    1,072, 1,096   26
    5 x 4 (before)      26              678, 717                    2,993, 2,682   24
    2 x 2               24              719, 887                    2,603, 2,622   26

CPU per pair is the same in all three; more processes than cores only queued requests behind
each other's time slices (5 x 4: p99 at 64 visitors three times longer), and two threads per
process were too few to cover the waits (fewer pairs/s than four).
"""

import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", os.cpu_count() or 1))
threads = int(os.environ.get("GUNICORN_THREADS", 4))
worker_class = "gthread"
# Each thread holds at most one database connection: the pool needs no more (settings.py).
os.environ.setdefault("DB_POOL_MAX_SIZE", str(threads))
timeout = 60
graceful_timeout = 30
keepalive = 30  # nginx keeps its upstream connections open (deploy/nginx.conf)
# A restart guards against a slow leak. max_requests 2,000 restarted a worker about every 30 s
# under load (each restart a cold worker: a rebuilt matchmaking pool, new connections); at the
# measured 40-80 requests a second per worker, 50,000 is 10 to 20 minutes, and a jitter of
# half of it keeps the two workers from restarting together.
max_requests = 50_000
max_requests_jitter = 25_000
# nginx logs every request; a second line per request here only costs CPU.
accesslog = None
errorlog = "-"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# gunicorn 27 opens a control socket at one fixed path per user ($XDG_RUNTIME_DIR/gunicorn.ctl):
# a second instance on the machine would take the first one's. One per instance, or none.
control_socket = os.environ.get("GUNICORN_CONTROL_SOCKET", "")
control_socket_disable = not control_socket
pidfile = os.environ.get("GUNICORN_PIDFILE") or None

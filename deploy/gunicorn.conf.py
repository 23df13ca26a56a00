"""gunicorn for Image Arena: `gunicorn -c deploy/gunicorn.conf.py arena.wsgi`.

Sized by measurement (`python -m tests.bench load`, README "Load"), not by formula: a page or
a vote is mostly Python holding the GIL (about 8.5-10 ms of CPU per page + vote pair), with short
waits on PostgreSQL and Redis, so one process per core keeps the cores busy and a few threads
per process cover the waits. On the 2-core machine while other jobs loaded it (load average 5
to 13), one run per row and four of 2 x 4:

    workers x threads   pairs/s at 16    p99 ms at 16 (page, vote)               CPU ms/pair
    2 x 4 (this)        98, 90, 67, 60   178/208, 197/231, 296/303, 324/358      8.5-10.3
    2 x 8               91, 70           145/425, 243/600                        9.4, 10.0
    3 x 4               75               203/323                                 8.9

CPU per pair is the same in all (as it was before the pages were made cheaper, at 22-26 ms,
with 5 x 4 and 2 x 2 too). Eight threads gave no more pairs a second and a worse vote p99 (more
requests sharing one GIL each take longer); a third process on two cores gave nothing either.
Earlier, 5 x 4 had queued requests behind each other's time slices (p99 at 64 visitors three
times longer) and 2 x 2 had too few threads to cover the waits (fewer pairs/s than 2 x 4).
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

"""gunicorn for Image Arena: `gunicorn -c deploy/gunicorn.conf.py arena.wsgi`.

Sized by measurement (`make bench` section `load`, README "Load"), not by formula: a page or a
vote is a few milliseconds of Python that holds the GIL and a little waiting on PostgreSQL and
Redis, so one process per core keeps both cores busy, and a few threads per process cover the
waits. More processes than cores only add context switches and connections.
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
# A restart guards against a slow leak; at the measured few hundred requests a second per
# worker, 50,000 requests is several minutes, and the jitter (half of it) keeps two workers
# from restarting together.
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

#!/usr/bin/env bash
# `make serve`: the production shape on one machine, in one command. nginx (TLS with a
# certificate made here for 127.0.0.1, deploy/nginx.conf) in front of gunicorn
# (deploy/gunicorn.conf.py), the generation and CPU workers and beat, on PostgreSQL and Redis,
# DEBUG off. Everything it writes is under SERVE_DIR; everything it starts stops on Ctrl-C.
#
# Environment (all optional): PORT (https, 8443), HOST (127.0.0.1), DATABASE_URL (the local
# PostgreSQL, database arena_serve, made if missing), REDIS_URL (the local Redis, db 0),
# SERVE_DIR (var/serve), SEED_ARGS (seed_demo's arguments when the database is empty:
# "--votes 600"), WEB_INSTANCES (1: how many gunicorn instances, each with its own socket,
# control socket, pid file and log, behind one nginx upstream, as machines would be; each
# runs GUNICORN_WORKERS processes of GUNICORN_THREADS threads, deploy/gunicorn.conf.py).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
VENV="$ROOT/.venv/bin"
HOST="${HOST:-127.0.0.1}"
PORT="${PORT:-8443}"
SERVE_DIR="$(mkdir -p "${SERVE_DIR:-var/serve}" && cd "${SERVE_DIR:-var/serve}" && pwd)"
NGINX_DIR="$SERVE_DIR/nginx"
LOG_DIR="$SERVE_DIR/log"
mkdir -p "$NGINX_DIR" "$LOG_DIR" "$SERVE_DIR/tls" "$SERVE_DIR/media"

command -v nginx >/dev/null || { echo "nginx is missing: make nginx installs Debian's."; exit 1; }

export DJANGO_SETTINGS_MODULE=arena.settings
export DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/arena_serve}"
export REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379/0}"
export DEBUG=0
if [ -z "${SECRET_KEY:-}" ]; then
	[ -s "$SERVE_DIR/secret_key" ] || (umask 077 && "$VENV/python" -c \
		'import secrets; print(secrets.token_urlsafe(50))' >"$SERVE_DIR/secret_key")
	SECRET_KEY="$(cat "$SERVE_DIR/secret_key")"
	export SECRET_KEY
fi
export ALLOWED_HOSTS="${ALLOWED_HOSTS:-$HOST,localhost}"
# nginx ends TLS and says so in X-Forwarded-Proto; it is the one proxy before Django.
export BEHIND_TLS_PROXY=1 ARENA_PROXY_COUNT=1
# A certificate nobody trusts on an address: HSTS would only pin the browser to it.
export SECURE_HSTS_SECONDS="${SECURE_HSTS_SECONDS:-0}"
export MEDIA_ROOT="$SERVE_DIR/media" STATIC_ROOT="$SERVE_DIR/static"
export STATICFILES_BACKEND=django.contrib.staticfiles.storage.ManifestStaticFilesStorage
export ARENA_ACCEL_REDIRECT_PREFIX=/protected-media
WEB_INSTANCES="${WEB_INSTANCES:-1}"
# The first gunicorn instance's files are gunicorn.sock, .ctl, .pid and .log; the others'
# gunicorn-2.sock and so on.
web_name() { if [ "$1" = 1 ]; then echo gunicorn; else echo "gunicorn-$1"; fi; }
UPSTREAM_SERVERS=""
for instance in $(seq "$WEB_INSTANCES"); do
	UPSTREAM_SERVERS+="${UPSTREAM_SERVERS:+\\n    }server unix:$SERVE_DIR/$(web_name "$instance").sock;"
done
# The demo's tuning (as make demo): a few models and prompts, ranked from fewer votes.
export ARENA_RENDITIONS="${ARENA_RENDITIONS:-8}" ARENA_IMAGE_SIZE="${ARENA_IMAGE_SIZE:-640}"
export ARENA_MIN_VOTES="${ARENA_MIN_VOTES:-10}" ARENA_CATEGORY_MIN_VOTES="${ARENA_CATEGORY_MIN_VOTES:-25}"

# The database, made if missing.
"$VENV/python" - <<'PY'
import os
import dj_database_url
import psycopg
from psycopg import sql

db = dj_database_url.parse(os.environ["DATABASE_URL"])
params = {"host": db["HOST"], "port": db["PORT"] or 5432, "user": db["USER"],
          "password": db["PASSWORD"] or None}
with psycopg.connect(dbname="postgres", autocommit=True, **params) as admin:
    if not admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [db["NAME"]]).fetchone():
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(db["NAME"])))
        print(f"Created the database {db['NAME']}.")
PY

# One-off commands take a plain connection: a pool is for long-lived processes, and
# seed_demo forks workers, which must not inherit one.
DB_POOL=0 "$VENV/python" manage.py migrate --noinput
DB_POOL=0 "$VENV/python" manage.py collectstatic --noinput -v 0
if DB_POOL=0 "$VENV/python" manage.py shell -v 0 -c \
	'from arena.catalog.models import Generation; raise SystemExit(Generation.objects.exists())'; then
	echo "The database is empty: seeding the built-in models, demo prompts and votes..."
	# shellcheck disable=SC2086  # several arguments
	DB_POOL=0 "$VENV/python" manage.py seed_demo ${SEED_ARGS:---votes 600}
else
	DB_POOL=0 "$VENV/python" manage.py shell -v 0 -c \
		'from arena.catalog.services import catalog_sync; catalog_sync()'
fi

if [ ! -s "$SERVE_DIR/tls/cert.pem" ]; then
	openssl req -x509 -newkey rsa:2048 -nodes -days 365 -subj "/CN=$HOST" \
		-addext "subjectAltName=IP:$HOST,DNS:localhost" \
		-keyout "$SERVE_DIR/tls/key.pem" -out "$SERVE_DIR/tls/cert.pem" 2>/dev/null
fi

# deploy/nginx.conf with this machine's paths, port and certificate, inside a main config
# whose pid, logs and temporary files live under SERVE_DIR: no system nginx involved.
sed -e "s|server 127.0.0.1:8000;|$UPSTREAM_SERVERS|" \
	-e "/listen 80;/d" \
	-e "s|listen 443 ssl;|listen $HOST:$PORT ssl;|" \
	-e "s|server_name arena.example.org;|server_name $HOST;|" \
	-e "s|/etc/letsencrypt/live/arena.example.org/fullchain.pem|$SERVE_DIR/tls/cert.pem|" \
	-e "s|/etc/letsencrypt/live/arena.example.org/privkey.pem|$SERVE_DIR/tls/key.pem|" \
	-e "s|/srv/image-arena/static/|$STATIC_ROOT/|" \
	-e "s|/srv/image-arena/media/|$MEDIA_ROOT/|" \
	deploy/nginx.conf >"$NGINX_DIR/arena.conf"
cat >"$NGINX_DIR/nginx.conf" <<EOF
pid $NGINX_DIR/nginx.pid;
error_log $LOG_DIR/nginx-error.log warn;
worker_processes 1;
load_module /usr/lib/nginx/modules/ngx_http_headers_more_filter_module.so;
events { worker_connections 1024; }
http {
    include /etc/nginx/mime.types;
    sendfile on;
    # combined, and which gunicorn instance answered
    log_format arena '\$remote_addr - \$remote_user [\$time_local] "\$request" \$status '
                     '\$body_bytes_sent "\$http_referer" "\$http_user_agent" \$upstream_addr';
    access_log $LOG_DIR/nginx-access.log arena buffer=64k flush=5s;
    client_body_temp_path $NGINX_DIR/client_body;
    proxy_temp_path $NGINX_DIR/proxy;
    fastcgi_temp_path $NGINX_DIR/fastcgi;
    uwsgi_temp_path $NGINX_DIR/uwsgi;
    scgi_temp_path $NGINX_DIR/scgi;
    include $NGINX_DIR/arena.conf;
}
EOF
nginx -t -q -p "$NGINX_DIR" -c "$NGINX_DIR/nginx.conf" -e "$LOG_DIR/nginx-error.log"

PIDS=()
# Ctrl-C: each process is asked to stop (workers finish their running tasks, gunicorn its
# requests); whatever is still running after STOP_SECONDS is killed.
STOP_SECONDS="${STOP_SECONDS:-20}"
stop() {
	trap - INT TERM EXIT
	echo "Stopping Image Arena..."
	for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
	for _ in $(seq $((STOP_SECONDS * 5))); do
		running=0
		for pid in "${PIDS[@]}"; do kill -0 "$pid" 2>/dev/null && running=1; done
		[ "$running" = 0 ] && break
		sleep 0.2
	done
	for pid in "${PIDS[@]}"; do
		kill -0 "$pid" 2>/dev/null && { echo "Process $pid did not stop in ${STOP_SECONDS} s: killed."; kill -KILL "$pid" 2>/dev/null; }
	done
	wait || true
}
trap 'stop; exit 0' INT TERM
trap stop EXIT

for instance in $(seq "$WEB_INSTANCES"); do
	name="$(web_name "$instance")"
	# gunicorn 27's control socket is at one path per user unless told otherwise: one each.
	GUNICORN_BIND="unix:$SERVE_DIR/$name.sock" GUNICORN_CONTROL_SOCKET="$SERVE_DIR/$name.ctl" \
		GUNICORN_PIDFILE="$SERVE_DIR/$name.pid" \
		"$VENV/gunicorn" -c deploy/gunicorn.conf.py arena.wsgi >>"$LOG_DIR/$name.log" 2>&1 &
	PIDS+=($!)
done
# Each process's pool holds as many connections as it has threads, and the generation
# worker one more that renews its leases (README, "Connections").
DB_POOL_MAX_SIZE=33 "$VENV/celery" -A arena worker -Q generation --pool threads \
	--concurrency 32 -n "generation-$PORT@%h" --loglevel INFO >>"$LOG_DIR/generation.log" 2>&1 &
PIDS+=($!)
DB_POOL_MAX_SIZE=1 "$VENV/celery" -A arena worker -Q cpu,celery --pool prefork \
	--concurrency 2 -n "cpu-$PORT@%h" --loglevel INFO >>"$LOG_DIR/cpu.log" 2>&1 &
PIDS+=($!)
"$VENV/celery" -A arena beat --loglevel INFO --schedule "$SERVE_DIR/celerybeat-schedule" \
	>>"$LOG_DIR/beat.log" 2>&1 &
PIDS+=($!)
nginx -p "$NGINX_DIR" -c "$NGINX_DIR/nginx.conf" -e "$LOG_DIR/nginx-error.log" -g "daemon off;" &
PIDS+=($!)

URL="https://$HOST:$PORT/"
# Every instance answers on its own socket (as nginx asks it: over TLS), then nginx.
answers() {
	for instance in $(seq "$WEB_INSTANCES"); do
		curl -sf -o /dev/null --unix-socket "$SERVE_DIR/$(web_name "$instance").sock" \
			-H "X-Forwarded-Proto: https" "http://$HOST/healthz" || return 1
	done
	curl -ksf -o /dev/null "${URL}healthz"
}
for attempt in $(seq 150); do
	answers && break
	if [ "$attempt" = 150 ]; then
		echo "$URL does not answer (see $LOG_DIR/nginx-error.log and gunicorn*.log)."
		exit 1
	fi
	sleep 0.2
done
echo "Image Arena is at $URL (a self-signed certificate: accept it once in the browser)."
echo "Logs: $LOG_DIR. Ctrl-C stops everything."
wait -n "${PIDS[@]}" || true
echo "A process stopped (see $LOG_DIR): stopping the others."
exit 1

# Image Arena. `make demo` runs the site on SQLite with the built-in models; `make test` runs
# every test. Both install what is missing first.

SHELL := /bin/bash
.DEFAULT_GOAL := help

# The first Python >= 3.12 on PATH (a .python-version file makes pyenv's python3 a 3.13).
PYTHON ?= $(shell for p in python3 python3.13 python3.12 python; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null \
	&& { echo $$p; break; }; done)
VENV := .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
RUN_INSTALLED := $(VENV)/.installed-run
HOST ?= 127.0.0.1
PORT ?= 8000
# make serve's https port (nginx in front, TLS).
SERVE_PORT ?= 8443
# The demo draws 8 renditions of every prompt and model (a voter who remembers every image
# revealed to them knows both models in few battles: `make bench`), at 640 px so that it
# answers within four minutes of a fresh clone on two cores. Its 600 votes give each category
# 30 to 130: the demo shows a category's board from 25 votes, and ranks a model on one from 10.
DEMO_ENV := DEBUG=1 ARENA_RENDITIONS=8 ARENA_IMAGE_SIZE=640 ARENA_MIN_VOTES=10 ARENA_CATEGORY_MIN_VOTES=25 ARENA_MIN_PROVIDER_CALLS=10

.PHONY: help install demo serve test bench lint format worker chromium nginx clean

help:
	@echo "make demo     install, migrate, seed the built-in models and prompts, serve http://$(HOST):$(PORT)"
	@echo "make serve    the production shape: nginx (TLS) + gunicorn + workers + beat, https://$(HOST):$(SERVE_PORT)"
	@echo "make test     install what is missing, lint, and run the whole test suite"
	@echo "make bench    print speed figures (queries per page, gateway overhead, ratings)"
	@echo "make worker   run Celery workers against REDIS_URL (production shape)"
	@echo "make lint     ruff, mypy and the import contracts (layers, no circles)"

# A virtualenv of Python >= 3.12, made anew if the one there is older.
define VENV_READY
	@if [ -z "$(PYTHON)" ]; then \
		echo "Image Arena needs Python 3.12 or newer (Django 6). Install it (e.g. 'pyenv install 3.13'," ; \
		echo "or your distribution's python3.13 package) and run make again, or pass PYTHON=/path/to/python3.13." ; \
		exit 1; fi
	@test -x $(PY) && $(PY) -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null || { rm -rf $(VENV); $(PYTHON) -m venv $(VENV); }
	$(PY) -m pip install --quiet --upgrade pip
endef

# The site alone (make demo): half the download of the test tools.
$(RUN_INSTALLED): pyproject.toml
	$(VENV_READY)
	$(PY) -m pip install --quiet -e .
	@touch $@

# The site and the test tools (make test, lint, bench).
$(INSTALLED): pyproject.toml
	$(VENV_READY)
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $@ $(RUN_INSTALLED)

install: $(INSTALLED)

# Browser tests drive Debian's Chromium; Playwright cannot download its own browsers here.
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
		echo "Installing Debian's chromium for the browser tests..."; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get install -y -q chromium >/dev/null 2>&1 || \
		{ $$SUDO apt-get update -q >/dev/null && $$SUDO apt-get install -y -q chromium >/dev/null; }; }

# make serve's front: Debian's nginx, with the module that clears battle images' headers. Only
# the package: serve.sh runs its own nginx under var/serve, never the system's service.
nginx:
	@command -v nginx >/dev/null 2>&1 && test -e /usr/lib/nginx/modules/ngx_http_headers_more_filter_module.so || { \
		echo "Installing Debian's nginx for make serve..."; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		PKGS="nginx-light libnginx-mod-http-headers-more-filter"; \
		$$SUDO apt-get install -y -q $$PKGS >/dev/null 2>&1 || \
		{ $$SUDO apt-get update -q >/dev/null && $$SUDO apt-get install -y -q $$PKGS >/dev/null; }; }

demo: $(RUN_INSTALLED)
	$(DEMO_ENV) $(PY) manage.py migrate --noinput
	$(DEMO_ENV) $(PY) manage.py seed_demo --votes 600
	@echo "Image Arena is at http://$(HOST):$(PORT)/  (admin: http://$(HOST):$(PORT)/admin/, user admin / password admin)"
	$(DEMO_ENV) $(PY) manage.py runserver $(HOST):$(PORT)

# Needs PostgreSQL and Redis on this machine (or DATABASE_URL and REDIS_URL); see deploy/serve.sh.
# WEB_INSTANCES=2 make serve: two gunicorn instances in nginx's upstream, as two machines.
serve: $(RUN_INSTALLED) nginx
	HOST=$(HOST) PORT=$(SERVE_PORT) deploy/serve.sh

# Two pytest-xdist workers, a test file each at a time (a file's fixtures stay together), and
# the files whose tests run real processes one after another on one of them (tests/services.py):
# much of a test's time is spent waiting on PostgreSQL, Chromium or a Celery worker, so two
# keep both cores busy. TEST_WORKERS=0 runs them in this process.
TEST_WORKERS ?= 2
test: install chromium nginx lint
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

bench: install
	$(PY) -m tests.bench

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports --no-cache

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# Production shape: REDIS_URL and DATABASE_URL set. Generation is I/O-bound (threads, many at
# once); rating recomputes are CPU-bound (prefork, one per core).
worker: install
	@test -n "$$REDIS_URL" || { echo "Set REDIS_URL (e.g. redis://127.0.0.1:6379/0) and DATABASE_URL first."; exit 1; }
	DB_POOL_MAX_SIZE=33 $(VENV)/bin/celery -A arena worker -Q generation --pool threads --concurrency 32 -n generation@%h --loglevel INFO & \
	DB_POOL_MAX_SIZE=1 $(VENV)/bin/celery -A arena worker -Q cpu,celery --pool prefork --concurrency 2 -n cpu@%h --loglevel INFO & \
	$(VENV)/bin/celery -A arena beat --loglevel INFO & \
	wait

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache .mypy_cache

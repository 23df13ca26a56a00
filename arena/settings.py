"""Image Arena settings: the only settings file. Everything comes from environment variables.

Embedded default (nothing set but DEBUG=1): a SQLite file under var/, Celery tasks run eagerly
in the web process, local-memory cache, media on local disk. Production: set DATABASE_URL
(PostgreSQL), REDIS_URL (Celery broker and cache), SECRET_KEY and ALLOWED_HOSTS; without
REDIS_URL the cache lives in the database. With DEBUG off the site is HTTPS only.
"""

import os
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


def env_float(name: str, default: float) -> float:
    value = os.environ.get(name)
    return float(value) if value else default


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env_str(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG")
# Without one (and without DEBUG) the web and worker processes refuse to start
# (arena.secret_key_require); commands that sign nothing, such as ratings_compute reproducing
# the leaderboard from a vote file, run. Anything that would sign with an empty key fails.
SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY and DEBUG:
    SECRET_KEY = "insecure-local-demo-key-do-not-use-in-production"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "arena.catalog",
    "arena.battles",
    "arena.ratings",
    "arena.pages",
    "arena.api",
]

MIDDLEWARE = [
    "arena.bodylimit.body_limit_middleware",  # first: an oversize body is refused unread
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "arena.urls"
WSGI_APPLICATION = "arena.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "arena.navigation.nav",
            ],
            # {% url %} with the addresses of literal arguments kept per process (arena.links).
            "builtins": ["arena.links"],
        },
    },
]

# --- Database ---------------------------------------------------------------------------------

VAR_DIR = Path(env_str("ARENA_VAR_DIR", str(BASE_DIR / "var")))
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'arena.sqlite3'}",
        conn_max_age=env_int("DB_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    # Writers queue up instead of failing with "database is locked" (seeding uses threads).
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
elif env_bool("DB_POOL", True):
    # PostgreSQL through psycopg's pool, one per process, bounded: a process needs one
    # connection per thread, so gunicorn.conf.py sets the size to its threads and the
    # generation worker to its concurrency (README, "Connections").
    # Each connection is checked as it leaves the pool (arena.dbpool), so connections the
    # server dropped are replaced there and cost at most the requests that were using them.
    # Django hands connections back to the pool at the end of each request, which needs
    # CONN_MAX_AGE 0. DB_POOL=0 for a site behind PgBouncer in transaction mode.
    from arena.dbpool import connection_check

    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        **DATABASES["default"].get("OPTIONS", {}),
        "pool": {
            "min_size": env_int("DB_POOL_MIN_SIZE", 1),
            "max_size": env_int("DB_POOL_MAX_SIZE", 10),
            # Seconds a request waits for a free connection before it fails.
            "timeout": env_float("DB_POOL_TIMEOUT", 10.0),
            # Idle connections above min_size are closed after this many seconds.
            "max_idle": env_float("DB_POOL_MAX_IDLE", 300.0),
            "check": connection_check,
        },
        # Parameters sent apart from the SQL, so a statement a connection runs again and again
        # (every battle page and vote runs the same few) is prepared after its fifth run: the
        # server parses and plans it once per connection, which halves its CPU per vote
        # (`make bench`, "load"). Both need a connection of our own, not PgBouncer's.
        "server_side_binding": True,
        "prepare_threshold": 5,
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache, sessions, Celery ------------------------------------------------------------------

REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "arena.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "arena",
        }
    }
elif DEBUG:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
else:
    # Several web processes must share one set of counters (vote, API and playground caps),
    # so production without Redis keeps the cache in the database; `migrate` creates its table.
    CACHES = {
        "default": {
            "BACKEND": "arena.cache.DatabaseCache",
            "LOCATION": "arena_cache",
            "OPTIONS": {"MAX_ENTRIES": env_int("ARENA_CACHE_MAX_ENTRIES", 100_000)},
        }
    }

# Sessions are read through the cache, except when the cache is the database itself: there it
# would only double the writes and crowd the rate-limit counters out of the cache table. Both
# stores refuse malformed session cookies (arena.sessions).
SESSION_ENGINE = "arena.sessions" if REDIS_URL or DEBUG else "arena.sessions.db"
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 60 * 60 * 24 * 30)

CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = REDIS_URL or None
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Django's LOGGING below configures logging for web and workers alike.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# A task whose worker died is redelivered after this long; generations are claimed with a lease,
# so a redelivered task never runs a generation twice.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 3600)
}
CELERY_TASK_DEFAULT_QUEUE = "celery"
CELERY_TASK_ROUTES = {
    # Not behind a long generation queue: a dead worker's work is found while the queue waits.
    "arena.catalog.tasks.generations_requeue_stale_run": {"queue": "celery"},
    "arena.catalog.tasks.*": {"queue": "generation"},
    # The API's and the playground's images are made where the arena's are, never on the web.
    "arena.api.tasks.image_job_run": {"queue": "generation"},
    "arena.api.tasks.webhook_deliver_run": {"queue": "generation"},  # I/O-bound, like a call
    "arena.ratings.tasks.*": {"queue": "cpu"},
}

# --- Static and media -------------------------------------------------------------------------

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
MEDIA_URL = env_str("MEDIA_URL", "/media/")
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))
STORAGES = {
    "default": {
        "BACKEND": env_str("STORAGE_BACKEND", "django.core.files.storage.FileSystemStorage")
    },
    "staticfiles": {
        "BACKEND": env_str(
            "STATICFILES_BACKEND", "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
# Largest request body Django will read into memory for forms (uploads stream to disk past it).
DATA_UPLOAD_MAX_MEMORY_SIZE = 25 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# --- Security ---------------------------------------------------------------------------------

# With DEBUG off the site is served over HTTPS only. ARENA_HTTPS=0 (or each setting below on
# its own) turns that off for a plain-http run of the production shape on one machine.
HTTPS_ONLY = env_bool("ARENA_HTTPS", not DEBUG)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", HTTPS_ONLY)
# Paths answered over plain http too (regular expressions without the leading slash), e.g. a
# load balancer's health probe that talks to gunicorn directly.
SECURE_REDIRECT_EXEMPT = env_list("SECURE_REDIRECT_EXEMPT")
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 365 * 24 * 60 * 60 if HTTPS_ONLY else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", HTTPS_ONLY)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", HTTPS_ONLY)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", HTTPS_ONLY)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", HTTPS_ONLY)
if env_bool("BEHIND_TLS_PROXY"):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = env_str("SECURE_REFERRER_POLICY", "same-origin")
SECURE_CROSS_ORIGIN_OPENER_POLICY = env_str("SECURE_CROSS_ORIGIN_OPENER_POLICY", "same-origin")
X_FRAME_OPTIONS = "DENY"


def url_origin(url: str) -> str | None:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else None


# Content-Security-Policy: scripts, styles and everything else from this site only; no inline
# script or style anywhere (chart data travels in json_script elements, which never run).
# Images may also come from an absolute MEDIA_URL and from ARENA_CSP_IMG_SRC (an object
# storage's domain).
CSP_IMG_SRC = [
    CSP.SELF,
    *filter(None, [url_origin(MEDIA_URL)]),
    *env_list("ARENA_CSP_IMG_SRC"),
]
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": CSP_IMG_SRC,
    "connect-src": [CSP.SELF],
    "font-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}

# --- Accounts (made by the staff in the admin; they own API keys) -----------------------------

LOGIN_URL = "account:login"
LOGIN_REDIRECT_URL = "account:keys"
LOGOUT_REDIRECT_URL = "pages:home"

# --- Internationalisation ---------------------------------------------------------------------

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        # httpx logs every request at INFO; the gateway records each attempt itself.
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
    },
}

# --- The arena --------------------------------------------------------------------------------

# How long a visitor has to vote on a battle they were shown.
ARENA_BATTLE_TTL_SECONDS = env_int("ARENA_BATTLE_TTL_SECONDS", 60 * 60)
# Images made per prompt and model, each from its own secret seed: a battle shows one of them
# at random, so a voter who remembers every image revealed to them still meets new ones.
ARENA_RENDITIONS = env_int("ARENA_RENDITIONS", 3)
# Battle images are re-encoded to this square size so both sides look alike on the wire.
ARENA_IMAGE_SIZE = env_int("ARENA_IMAGE_SIZE", 1024)
ARENA_THUMBNAIL_SIZE = env_int("ARENA_THUMBNAIL_SIZE", 384)
# Battle images are stored padded to a multiple of this many bytes, and both sides of a battle
# are served at one length: the length served says at most which band the larger one is in.
ARENA_IMAGE_PAD_BYTES = env_int("ARENA_IMAGE_PAD_BYTES", 256 * 1024)
# A worker renews the lease of what it runs (a generation, an API job) every third of this
# many seconds, however long the provider takes; one that died leaves work claimable again
# after at most this long, and beat's requeue pass (ARENA_REQUEUE_EVERY_SECONDS) sends it again:
# found within 40 s, which leaves a call made again from the start 50 s of the 90 s goal
# (`python -m tests.bench recovery`). Two renewals in a row can fail (20 s without the database)
# before the work is taken over.
ARENA_GENERATION_LEASE_SECONDS = env_int("ARENA_GENERATION_LEASE_SECONDS", 30)
# Provider webhooks (/hooks/fal/, /hooks/replicate/), used when GATEWAY_WEBHOOK_BASE_URL is
# set to this site's https://.../hooks: Replicate's signing secret (whsec_..., from its
# /v1/webhooks/default/secret), and where fal's public keys are (empty: fal's own JWKS URL).
REPLICATE_WEBHOOK_SECRET = env_str("REPLICATE_WEBHOOK_SECRET")
FAL_WEBHOOK_JWKS_URL = env_str("FAL_WEBHOOK_JWKS_URL")
# Provider batches ("Generate (batch)"): beat polls the running ones this often; one that
# cannot be polled for this many hours (providers keep a batch 24 h) gives its requests back
# to direct calls.
ARENA_BATCH_POLL_EVERY_SECONDS = env_int("ARENA_BATCH_POLL_EVERY_SECONDS", 120)
ARENA_BATCH_GIVE_UP_HOURS = env_int("ARENA_BATCH_GIVE_UP_HOURS", 48)
# Bradley-Terry leaderboards: recomputed every ARENA_RATINGS_EVERY_SECONDS by celery beat.
# A model with fewer votes than ARENA_MIN_VOTES is listed apart as preliminary.
ARENA_MIN_VOTES = env_int("ARENA_MIN_VOTES", 30)
# A category's board (the votes on its prompts) is shown once it has this many votes, as
# LMArena's per-category minimum; below it the page says how many it has.
ARENA_CATEGORY_MIN_VOTES = env_int("ARENA_CATEGORY_MIN_VOTES", 300)
ARENA_BOOTSTRAP_ROUNDS = env_int("ARENA_BOOTSTRAP_ROUNDS", 100)
# A provider's speed and success rate on a model page (and its fastest median anywhere) count
# once it made this many calls for the model in the speed window; fewer are noise, and the page
# says "not enough calls yet" instead.
ARENA_MIN_PROVIDER_CALLS = env_int("ARENA_MIN_PROVIDER_CALLS", 20)
ARENA_RATINGS_SEED = env_int("ARENA_RATINGS_SEED", 0)
ARENA_RATINGS_EVERY_SECONDS = env_int("ARENA_RATINGS_EVERY_SECONDS", 300)
# A visitor sees their own leaderboard of an arena (/leaderboard/me/) after this many votes in it.
ARENA_PERSONAL_MIN_VOTES = env_int("ARENA_PERSONAL_MIN_VOTES", 30)
# Without a beat, a vote refits the ratings (in a thread of its own, never in the vote's way)
# when the arena's last run is older than this many seconds; 0: never. Celery running eagerly
# means no worker, hence no beat: that is the default's test (the demo, and any site without
# REDIS_URL). A site that runs eagerly and still has a beat sets 0.
ARENA_REFIT_AFTER_VOTE_SECONDS = env_int(
    "ARENA_REFIT_AFTER_VOTE_SECONDS", 60 if CELERY_TASK_ALWAYS_EAGER else 0
)
# How often beat sends again the generations and API jobs whose worker died (their lease ran
# out): with the lease, a dead worker's work is running again within 40 s.
ARENA_REQUEUE_EVERY_SECONDS = env_int("ARENA_REQUEUE_EVERY_SECONDS", 10)
# A queued generation or API job that no worker claimed this many seconds after its task was
# sent gets another task (the first was lost, say with the broker); a long queue waits longer.
ARENA_REQUEUE_QUEUED_AFTER_SECONDS = env_int("ARENA_REQUEUE_QUEUED_AFTER_SECONDS", 15 * 60)
# How often beat prunes old API images.
ARENA_PRUNE_EVERY_SECONDS = env_int("ARENA_PRUNE_EVERY_SECONDS", 60)
# The public vote files (/leaderboard/data/) are rewritten once a day, at this hour (UTC).
ARENA_EXPORT_HOUR = env_int("ARENA_EXPORT_HOUR", 3)
# Each web process rebuilds its matchmaking pool (images, ratings) at least this often.
ARENA_POOL_SECONDS = env_int("ARENA_POOL_SECONDS", 60)
# Every model that can be in a battle is in at least this share of the battles an even share
# would give it (2 / n of them with n models); 0 turns the floor off, 1 asks for an even share
# (the floor holds up to about 0.5, beyond which it gives what it can).
ARENA_FLOOR_SHARE = env_float("ARENA_FLOOR_SHARE", 0.5)
# Vote caps per visitor (session) and per address; 0 turns one off.
ARENA_VOTES_PER_MINUTE = env_int("ARENA_VOTES_PER_MINUTE", 20)
ARENA_VOTES_PER_DAY = env_int("ARENA_VOTES_PER_DAY", 1000)
ARENA_IP_VOTES_PER_MINUTE = env_int("ARENA_IP_VOTES_PER_MINUTE", 60)
ARENA_IP_VOTES_PER_DAY = env_int("ARENA_IP_VOTES_PER_DAY", 5000)
# The images API, per key, and the keyless playground, per visitor and per address.
ARENA_API_REQUESTS_PER_MINUTE = env_int("ARENA_API_REQUESTS_PER_MINUTE", 60)
ARENA_PLAYGROUND_PER_HOUR = env_int("ARENA_PLAYGROUND_PER_HOUR", 30)
# Sign-in attempts per address, against password guessing.
ARENA_SIGNINS_PER_HOUR = env_int("ARENA_SIGNINS_PER_HOUR", 30)
# Async API jobs' webhooks: beat sends the retries that are due this often. Webhook URLs that
# resolve to private, loopback or reserved addresses are refused unless this is on (tests, DEBUG).
ARENA_WEBHOOK_RETRY_EVERY_SECONDS = env_int("ARENA_WEBHOOK_RETRY_EVERY_SECONDS", 30)
ARENA_WEBHOOK_ALLOW_PRIVATE = env_bool("ARENA_WEBHOOK_ALLOW_PRIVATE", DEBUG)
# An image URL of the API is signed and answers this many minutes after the image was made;
# then the image is deleted, and so are the playground's and the inputs of jobs never run.
ARENA_API_URL_MINUTES = env_int("ARENA_API_URL_MINUTES", 60)
# Without a beat (Celery eager: the demo), API and playground requests prune expired images
# themselves, at most once every ARENA_PRUNE_EVERY_SECONDS in each process.
ARENA_PRUNE_ON_REQUEST = env_bool("ARENA_PRUNE_ON_REQUEST", CELERY_TASK_ALWAYS_EAGER)
# How many reverse proxies (nginx, a load balancer) stand before Django and append to
# X-Forwarded-For; the visitor's address is read from there. 0: use the socket's address.
ARENA_PROXY_COUNT = env_int("ARENA_PROXY_COUNT", 0)
# Serve battle images and the API's signed image URLs through nginx (X-Accel-Redirect to this
# internal prefix) when set.
ARENA_ACCEL_REDIRECT_PREFIX = env_str("ARENA_ACCEL_REDIRECT_PREFIX")

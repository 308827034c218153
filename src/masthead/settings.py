"""Masthead settings, read from environment variables only (see .env.example)."""

import os
import secrets
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

PACKAGE_DIR = Path(__file__).resolve().parent


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


# Everything the embedded default writes lives here, so a backup is one copy.
DATA_DIR = Path(os.environ.get("MASTHEAD_DATA_DIR") or Path.cwd() / "var").resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)


def _secret_key() -> str:
    if key := os.environ.get("SECRET_KEY"):
        return key
    path = DATA_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = env_bool("MASTHEAD_DEBUG")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
SITE_NAME = os.environ.get("MASTHEAD_SITE_NAME", "Masthead 号")
SITE_URL = os.environ.get("MASTHEAD_SITE_URL", "").rstrip("/")

INSTALLED_APPS = [
    "masthead.web",
    "masthead.accounts",
    "masthead.articles",
    "masthead.channels",
    "masthead.engagement",
    "masthead.discovery",
    "masthead.moderation",
    "masthead.studio",
    "masthead.demo",
    "masthead.ops",
    "masthead.api",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.sitemaps",
    "django.contrib.humanize",
    "corsheaders",
]

MIDDLEWARE = [
    "masthead.ops.logs.RequestTimingMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "masthead.articles.scheduler.PublishDueMiddleware",
    "masthead.discovery.hot_tasks.HotRefreshMiddleware",
    "masthead.web.pagecache.PageCacheMiddleware",  # before sessions and locale: a hit needs neither
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "masthead.api.middleware.ApiMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "masthead.urls"
WSGI_APPLICATION = "masthead.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "masthead.web.context.site",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{DATA_DIR / 'masthead.sqlite3'}",
        conn_max_age=int(os.environ.get("MASTHEAD_DB_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers run while a writer commits; IMMEDIATE avoids "database is locked" upgrades.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = False
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"


def redis_caches(url: str, prefix: str = "masthead") -> dict:
    """CACHES on the Redis at `url` (tests point it at a server of their own)."""
    return {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": url,
            "KEY_PREFIX": prefix,
            # A hung Redis must not hold requests: fail fast and serve uncached.
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }


REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = redis_caches(REDIS_URL)
else:
    # Files in the data directory: shared by every worker process of one machine, so a purge in one
    # worker is seen by all (a per-process memory cache would keep serving stale pages elsewhere).
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(DATA_DIR / "cache"),
            "OPTIONS": {"MAX_ENTRIES": 20000},
        }
    }

# Buffered counters (views, shares): "memory" per process, or "redis" shared by all app servers.
MASTHEAD_COUNTERS = os.environ.get("MASTHEAD_COUNTERS") or ("redis" if REDIS_URL else "memory")
MASTHEAD_COUNTER_FLUSH_SECONDS = float(os.environ.get("MASTHEAD_COUNTER_FLUSH_SECONDS", "10"))
# With Redis: how long a process gathers increments before sending them in one round trip (0: at once).
MASTHEAD_COUNTER_PUSH_SECONDS = float(os.environ.get("MASTHEAD_COUNTER_PUSH_SECONDS", "1"))
# Anonymous full-page cache lifetime; publishing purges earlier.
MASTHEAD_PAGE_CACHE_SECONDS = int(os.environ.get("MASTHEAD_PAGE_CACHE_SECONDS", "300"))
# How often a request checks for scheduled articles that are due (the embedded default's "worker").
MASTHEAD_PUBLISH_DUE_SECONDS = float(os.environ.get("MASTHEAD_PUBLISH_DUE_SECONDS", "30"))
MASTHEAD_SERVE_MEDIA = env_bool("MASTHEAD_SERVE_MEDIA", True)
MASTHEAD_MAX_UPLOAD_BYTES = int(os.environ.get("MASTHEAD_MAX_UPLOAD_BYTES", str(10 * 1024 * 1024)))

TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}

# Rate-limit overrides per scope: {"login-account": (attempts, seconds)}; scopes in accounts/auth_forms.py.
MASTHEAD_RATE_LIMITS: dict = {}
# Reverse proxies in front of the app that append to X-Forwarded-For (0: trust only REMOTE_ADDR).
MASTHEAD_TRUSTED_PROXIES = int(os.environ.get("MASTHEAD_TRUSTED_PROXIES", "0"))

# --- engagement (settings of this feature go between these lines) ---
# --- end engagement ---

# --- comments (settings of this feature go between these lines) ---
# --- end comments ---

# --- reports (settings of this feature go between these lines) ---
# --- end reports ---

# --- regions (settings of this feature go between these lines) ---
# IP属地 lookup (accounts/geo): a MaxMind-format .mmdb file (a City database shows provinces in
# mainland China). Empty: the offline country-level database that ships with geoip2fast.
MASTHEAD_GEOIP_DATABASE = os.environ.get("MASTHEAD_GEOIP_DATABASE", "")
# Optional dotted path of your own accounts.geo.base.GeoBackend subclass (takes precedence).
MASTHEAD_GEOIP_BACKEND = os.environ.get("MASTHEAD_GEOIP_BACKEND", "")
# --- end regions ---

# --- search (settings of this feature go between these lines) ---
# --- end search ---

# --- related-feed (settings of this feature go between these lines) ---
# --- end related-feed ---

# --- hot (settings of this feature go between these lines) ---
# How often requests refresh the hot list, in seconds (0: only a worker running refresh_hot does).
MASTHEAD_HOT_REFRESH_SECONDS = float(os.environ.get("MASTHEAD_HOT_REFRESH_SECONDS", "60"))
# Distinct readers of one article from one network (IPv4 /24, IPv6 /48) that count in full on the hot list.
MASTHEAD_HOT_NETWORK_FREE = int(os.environ.get("MASTHEAD_HOT_NETWORK_FREE", "4"))
# --- end hot ---

# --- import (settings of this feature go between these lines) ---
# --- end import ---

# --- api ---
# The JSON API (/api/v1/, docs/api.md). Rate limits as (requests, seconds): per personal access token,
# and per address for everything else (sessions and anonymous readers); Redis holds them when configured.
MASTHEAD_API_TOKEN_RATE = (int(os.environ.get("MASTHEAD_API_TOKEN_RATE", "600")), 60)
MASTHEAD_API_IP_RATE = (int(os.environ.get("MASTHEAD_API_IP_RATE", "300")), 60)
# JSON request bodies larger than this are refused with 413 (image uploads have MASTHEAD_MAX_UPLOAD_BYTES).
MASTHEAD_API_MAX_BODY_BYTES = int(os.environ.get("MASTHEAD_API_MAX_BODY_BYTES", str(1024 * 1024)))
# CORS is off: browsers on other sites may not call the API unless their origin is listed here
# (comma-separated, e.g. https://app.example.com). Apps, mini-programs and servers need no CORS.
CORS_ALLOWED_ORIGINS = env_list("MASTHEAD_API_CORS_ORIGINS")
CORS_URLS_REGEX = r"^/api/"
CORS_ALLOW_HEADERS = ("accept", "accept-language", "authorization", "content-type", "idempotency-key", "x-csrftoken")
CORS_EXPOSE_HEADERS = ("ETag", "Last-Modified", "Retry-After", "Idempotent-Replayed", "Location")
# --- end api ---

# --- sessions ---
# With Redis, sessions stay in the database and are read through Redis (masthead/ops/sessions.py), so
# a Redis outage costs nobody their session; without it, plain database sessions.
if REDIS_URL:
    SESSION_ENGINE = "masthead.ops.sessions"
# Longest a session lives in the cache: bounds how stale an entry left by an outage can be.
MASTHEAD_SESSION_CACHE_SECONDS = int(os.environ.get("MASTHEAD_SESSION_CACHE_SECONDS", "3600"))
# --- end sessions ---

# --- worker ---
# Where django.tasks run (docs/worker.md): "immediate" inside the request that enqueues them, no worker
# needed (the embedded default); "database": queued in the database (django-tasks-db) and run by
# `masthead worker`, which also runs the periodic jobs the request path does in the embedded default.
MASTHEAD_TASKS = os.environ.get("MASTHEAD_TASKS", "immediate").strip().lower() or "immediate"
if MASTHEAD_TASKS not in {"immediate", "database"}:
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured(f"MASTHEAD_TASKS={MASTHEAD_TASKS!r}: use 'immediate' or 'database'")
# A task that raises is tried again after 10 s, 20 s, 40 s (…) this many times, then marked failed.
MASTHEAD_TASK_RETRIES = int(os.environ.get("MASTHEAD_TASK_RETRIES", "3"))
MASTHEAD_TASK_RETRY_SECONDS = float(os.environ.get("MASTHEAD_TASK_RETRY_SECONDS", "10"))
# A task "running" this long lost its worker (killed, machine gone): it goes back to the queue.
MASTHEAD_TASK_STALE_SECONDS = float(os.environ.get("MASTHEAD_TASK_STALE_SECONDS", "900"))
# Finished task results are deleted after this many days (failed ones are kept longer).
MASTHEAD_TASK_KEEP_DAYS = int(os.environ.get("MASTHEAD_TASK_KEEP_DAYS", "2"))
MASTHEAD_TASK_KEEP_FAILED_DAYS = int(os.environ.get("MASTHEAD_TASK_KEEP_FAILED_DAYS", "30"))
if MASTHEAD_TASKS == "database":
    TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    INSTALLED_APPS.append("django_tasks_db")
    # The same variables now set how often the worker's scheduler enqueues each job …
    MASTHEAD_WORKER_SCHEDULE = {
        "publish_due": MASTHEAD_PUBLISH_DUE_SECONDS or 30,
        "refresh_hot": MASTHEAD_HOT_REFRESH_SECONDS or 60,
        "flush_counters": MASTHEAD_COUNTER_FLUSH_SECONDS or 10,
    }
    # … and requests stop doing it (infinity: never due; 0 turns the request-path hot refresh off).
    MASTHEAD_PUBLISH_DUE_SECONDS = float("inf")
    MASTHEAD_HOT_REFRESH_SECONDS = 0
    if MASTHEAD_COUNTERS != "memory":
        # A shared buffer (Redis) is flushed by the worker; a per-process memory buffer can only be
        # flushed by its own process, so then requests keep flushing.
        MASTHEAD_COUNTER_FLUSH_SECONDS = float("inf")
# --- end worker ---

LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/"
# Mail (password reset, notices): printed to the console unless MASTHEAD_SMTP_HOST names a server.
if os.environ.get("MASTHEAD_SMTP_HOST"):
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {
                "host": os.environ["MASTHEAD_SMTP_HOST"],
                "port": int(os.environ.get("MASTHEAD_SMTP_PORT", "587")),
                "username": os.environ.get("MASTHEAD_SMTP_USER", ""),
                "password": os.environ.get("MASTHEAD_SMTP_PASSWORD", ""),
                "use_tls": env_bool("MASTHEAD_SMTP_TLS", True),
            },
        }
    }
else:
    MAILERS = {"default": {"BACKEND": "django.core.mail.backends.console.EmailBackend"}}
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Masthead <noreply@localhost>")

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True
LANGUAGE_COOKIE_NAME = "masthead_lang"
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
MEDIA_URL = "/media/"
MEDIA_ROOT = DATA_DIR / "media"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG or env_bool("MASTHEAD_PLAIN_STATIC")
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
WHITENOISE_MAX_AGE = 3600

# --- storage ---
# (After STORAGES, which it extends.) Private files (qualification documents) go to their own storage,
# a folder outside MEDIA_ROOT by default. MASTHEAD_S3_BUCKET moves public media (images, renditions,
# avatars) to S3-compatible object storage, MASTHEAD_S3_PRIVATE_BUCKET the private files (ops/storage.py,
# docs/operations.md "Media in object storage").
STORAGES["private"] = {
    "BACKEND": "django.core.files.storage.FileSystemStorage",
    "OPTIONS": {"location": DATA_DIR / "private", "base_url": None},
}
MASTHEAD_S3_BUCKET = os.environ.get("MASTHEAD_S3_BUCKET", "").strip()
if MASTHEAD_S3_BUCKET or os.environ.get("MASTHEAD_S3_PRIVATE_BUCKET", "").strip():
    from masthead.ops.storage import s3_storages  # imports boto3: only when object storage is configured

    STORAGES.update(s3_storages(os.environ))
if MASTHEAD_S3_BUCKET:
    MASTHEAD_SERVE_MEDIA = False  # nothing to serve: pages link to the bucket (or MASTHEAD_S3_PUBLIC_URL)
    if public_url := os.environ.get("MASTHEAD_S3_PUBLIC_URL", "").strip():
        MEDIA_URL = public_url.rstrip("/") + "/"
# --- end storage ---

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
X_FRAME_OPTIONS = "DENY"
if env_bool("MASTHEAD_HTTPS"):
    SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

DATA_UPLOAD_MAX_MEMORY_SIZE = MASTHEAD_MAX_UPLOAD_BYTES
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

# Logs go to stderr: one JSON object a line with MASTHEAD_LOG_FORMAT=json, plain text otherwise.
MASTHEAD_LOG_FORMAT = os.environ.get("MASTHEAD_LOG_FORMAT", "text")
MASTHEAD_LOG_REQUESTS = env_bool("MASTHEAD_LOG_REQUESTS")  # one line per request (slow ones always)
MASTHEAD_SLOW_REQUEST_MS = float(os.environ.get("MASTHEAD_SLOW_REQUEST_MS", "1000"))
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {"()": "masthead.ops.logs.JsonFormatter"},
        "text": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "json" if MASTHEAD_LOG_FORMAT == "json" else "text"}
    },
    "root": {"handlers": ["console"], "level": os.environ.get("MASTHEAD_LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}

"""Contact Hub settings.

Everything that differs between a laptop and a production server comes from environment
variables (see the settings table in README.md). With no variables set, the app runs on an
embedded SQLite database in ``var/`` and is safe to expose on 127.0.0.1 only.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import dj_database_url
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("CONTACTHUB_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_float_or_none(name: str) -> float | None:
    value = os.environ.get(name, "").strip()
    return float(value) if value else None


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def _secret_key() -> str:
    """Use SECRET_KEY from the environment, else a random key kept in var/ across restarts."""
    if key := os.environ.get("SECRET_KEY"):
        return key
    key_file = VAR_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


# --- Core -----------------------------------------------------------------------------------
SECRET_KEY = _secret_key()
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.forms",
    "django_htmx",
    "django_tables2",
    "crispy_forms",
    "crispy_bootstrap5",
    "bootstrap",
    "heroicons",
    "django_tasks_db",
    "axes",
    "jobs",
    "accounts",
    "contacts",
    "bulkupload",
    "api",
    "overview",
]

MIDDLEWARE = [
    "contacthub.observability.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "contacts.middleware.ViewerTimeZoneMiddleware",
    "contacthub.caching.PrivatePagesMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as axes asks: it turns a refused log-in into AXES_LOCKOUT_CALLABLE's response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "contacthub.urls"
WSGI_APPLICATION = "contacthub.wsgi.application"
ASGI_APPLICATION = "contacthub.asgi.application"

# Widgets' own templates live with the project's templates (templates/contacts/widgets/).
FORM_RENDERER = "django.forms.renderers.TemplatesSetting"

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
                "django.template.context_processors.csp",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
# SQLite (the embedded default) runs in WAL mode with a busy timeout, and opens write
# transactions with BEGIN IMMEDIATE so that concurrent writers queue instead of failing.
SQLITE_PATH = VAR_DIR / "contacthub.sqlite3"
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{SQLITE_PATH}"),
        conn_max_age=int(os.environ.get("CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": (
            "PRAGMA journal_mode=WAL;"
            "PRAGMA synchronous=NORMAL;"
            "PRAGMA foreign_keys=ON;"
            "PRAGMA busy_timeout=20000;"
        ),
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Caches ---------------------------------------------------------------------------------
# Per-process: the Overview's snapshot and charts. The API's rate limit keeps its counts in
# the database (api/throttling.py), shared by every process.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Background tasks -----------------------------------------------------------------------
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

# --- Auth -----------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "contacts:list"
LOGOUT_REDIRECT_URL = "login"
SESSION_COOKIE_AGE = int(os.environ.get("SESSION_COOKIE_AGE", str(60 * 60 * 12)))
# Failed log-ins within the window lock the account (and, at a higher count, the address).
LOGIN_FAILURE_WINDOW = int(os.environ.get("LOGIN_FAILURE_WINDOW", str(15 * 60)))
LOGIN_FAILURES_PER_ACCOUNT = int(os.environ.get("LOGIN_FAILURES_PER_ACCOUNT", "5"))
LOGIN_FAILURES_PER_ADDRESS = int(os.environ.get("LOGIN_FAILURES_PER_ADDRESS", "20"))

# Log-in lock-out by django-axes with the limits above (accounts/lockout.py): axes' backend
# refuses a locked account or address before the password is tested.
AUTHENTICATION_BACKENDS = [
    "accounts.lockout.LockoutBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_HANDLER = "accounts.lockout.LockoutHandler"
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_COOLOFF_TIME = "accounts.lockout.cool_off"
AXES_USERNAME_CALLABLE = "accounts.lockout.username_key"
AXES_LOCKOUT_CALLABLE = "accounts.lockout.keep_response"
# A refused attempt is not counted and does not extend the lock (as before axes).
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_RESET_ON_SUCCESS = True
# The limits are LockoutHandler's; axes' own single limit would lock at its default of 3.
AXES_LOCK_OUT_AT_FAILURE = False
AXES_VERBOSE = False
# Successful log-ins are not kept (axes would keep one row per log-in forever).
AXES_DISABLE_ACCESS_LOG = True

# --- Internationalisation -------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

# --- Static and uploaded files --------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
# Uploads bigger than this stream to a temporary file instead of memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# --- Third-party apps -----------------------------------------------------------------------
CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"
DJANGO_TABLES2_TEMPLATE = "django_tables2/bootstrap5.html"

# --- Contact Hub ----------------------------------------------------------------------------
# Region used for phone numbers written without a country code and without "+".
CONTACTHUB_DEFAULT_REGION = os.environ.get("CONTACTHUB_DEFAULT_REGION", "IN")
# Public API requests allowed per key: "<count>/<seconds>" (or "100/minute"); "0" turns it off.
CONTACTHUB_API_RATE_LIMIT = os.environ.get("CONTACTHUB_API_RATE_LIMIT", "600/60")
# The public API creates a custom field for a trait name it has not seen; it stops at this many.
CONTACTHUB_MAX_CUSTOM_FIELDS = int(os.environ.get("CONTACTHUB_MAX_CUSTOM_FIELDS", "1000"))
# A background job (an upload, a bulk action) whose worker has not reported for this long is
# taken as dead and queued again (by the next job a worker starts, or `manage.py resume_jobs`),
# resuming after its last committed chunk. JOBS_STALE_SECONDS, when set, wins over the older
# BULKUPLOAD_STALE_SECONDS (which still works, for every kind of job).
BULKUPLOAD_STALE_SECONDS = int(os.environ.get("BULKUPLOAD_STALE_SECONDS", "120"))
JOBS_STALE_SECONDS = env_float_or_none("JOBS_STALE_SECONDS")
# A running job that loses its database connection (a restarted server) waits this long for it
# to come back and carries on after its last chunk; past that it stops, keeps its progress,
# and is resumed as a stalled job. JOBS_DATABASE_WAIT_SECONDS, when set, wins.
BULKUPLOAD_DATABASE_WAIT_SECONDS = float(os.environ.get("BULKUPLOAD_DATABASE_WAIT_SECONDS", "300"))
JOBS_DATABASE_WAIT_SECONDS = env_float_or_none("JOBS_DATABASE_WAIT_SECONDS")
# A bulk action from the contact list on more contacts than this runs as a background task
# with a progress page (a request would hit the web server's timeout on 500,000 contacts).
CONTACTHUB_BULK_INLINE_LIMIT = int(os.environ.get("CONTACTHUB_BULK_INLINE_LIMIT", "5000"))
# Messages live in the session (server side): a new API key is shown once through one.
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"
MESSAGE_TAGS = {40: "danger"}

# --- Security -------------------------------------------------------------------------------
# HTTPS=true turns on everything a site served over TLS needs; behind a proxy that terminates
# TLS, also set SECURE_PROXY_SSL_HEADER=true (only if the proxy sets X-Forwarded-Proto).
HTTPS = env_bool("HTTPS", False)
SECURE_SSL_REDIRECT = HTTPS
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000" if HTTPS else "0"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", HTTPS)
if env_bool("SECURE_PROXY_SSL_HEADER", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_HTTPONLY = True
# Content Security Policy: scripts and styles only from this site, no inline script anywhere.
# Style attributes are allowed (a progress bar's width); <style> elements are not.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "style-src-attr": [CSP.UNSAFE_INLINE],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

if DEBUG:
    STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
    WHITENOISE_USE_FINDERS = True

# --- Logging -------------------------------------------------------------------------------
# Every line carries the request id (also sent as the X-Request-ID response header).
# LOG_FORMAT=json writes one JSON object per line for log collectors.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "contacthub.observability.RequestIdFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {"()": "contacthub.observability.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json" if os.environ.get("LOG_FORMAT") == "json" else "plain",
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

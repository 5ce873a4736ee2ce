"""Settings for the demonstration-county registry.

Every value that differs between a laptop and production is read from the environment here, and
only here, and validated as it is read: a bad value stops the process with ImproperlyConfigured
instead of surfacing later as a confusing error. See the README for the list of variables.
"""

import re
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

# The key `make run` uses on a developer's machine. It is public (it is in this file), so the
# process refuses to start with it, or with none, once DEBUG is off.
DEVELOPMENT_SECRET_KEY = "insecure-development-key-do-not-use-in-production"

env = environ.Env()


def _env_bool(name: str, default: bool) -> bool:
    raw = env.str(name, default=None)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off", ""}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false, yes/no, on/off), got {raw!r}")


def _env_int(name: str, default: int) -> int:
    raw = env.str(name, default=None)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, got {raw!r}") from None


def _env_seconds(name: str, default: float, low: float, high: float) -> float:
    """A duration in seconds (decimals allowed), between `low` (excluded) and `high`."""
    raw = env.str(name, default=None)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number of seconds, got {raw!r}") from None
    if not low < value <= high:
        raise ImproperlyConfigured(f"{name} must be more than {low:g} and at most {high:g} seconds, got {raw!r}")
    return value


def _env_rate(name: str, default: str) -> str:
    """A rate limit as DRF reads it: requests per second, minute, hour or day ("60/minute")."""
    raw = env.str(name, default=default).strip()
    if not re.fullmatch(r"[1-9]\d*/(s|sec|second|m|min|minute|h|hour|d|day)", raw):
        raise ImproperlyConfigured(f"{name} must be a number of requests per second, minute, hour or day (60/minute), got {raw!r}")
    return raw


DEBUG = _env_bool("DEBUG", False)

SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY is not set. Set it to a long random string (DEBUG is off).")
    SECRET_KEY = DEVELOPMENT_SECRET_KEY
elif SECRET_KEY == DEVELOPMENT_SECRET_KEY and not DEBUG:
    raise ImproperlyConfigured("SECRET_KEY is the public development key; set a private one (DEBUG is off).")

ALLOWED_HOSTS = [h for h in env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG else []) if h]
if not DEBUG and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS is empty; list the host names the site answers to (DEBUG is off).")
CSRF_TRUSTED_ORIGINS = [o for o in env.list("CSRF_TRUSTED_ORIGINS", default=[]) if o]

INSTALLED_APPS = [
    "counties.apps.RegistryAdminConfig",  # django.contrib.admin with the registry's site
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.sitemaps",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "corsheaders",
    "simple_history",
    "import_export",
    "axes",
    "csp",
    "counties",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    # Before the first that reads the query: too many parameters get the site's 400.
    "registry.middleware.RefuseTooManyFieldsMiddleware",
    # Anonymous reads are answered here from the response cache, before the costly layers below
    # (the ones above only add headers, so cached answers get them too). See counties.caching.responses.
    "counties.caching.responses.PublicCacheMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "counties.api.middleware.ApiLanguageMiddleware",
    # After the language is chosen, so that its message is in the page's or the API client's language.
    "registry.middleware.RefuseNulMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "axes.middleware.AxesMiddleware",
    "registry.middleware.SiteNotFoundMiddleware",
]

ROOT_URLCONF = "registry.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
            # The public pages' tag libraries live with the pages (counties/web), not in the app's
            # top-level templatetags package where Django would look by itself.
            "libraries": {
                "registry": "counties.web.templatetags.registry",
                "county_list": "counties.web.templatetags.county_list",
            },
        },
    },
]

WSGI_APPLICATION = "registry.wsgi.application"

# DATABASE_URL selects the database: sqlite:///path or postgres://user:pass@host:port/name.
# Without it, an SQLite file inside the project folder, so `make run` needs no server.
DATABASES = {"default": env.db_url("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
_engine = DATABASES["default"]["ENGINE"]
if _engine not in {"django.db.backends.sqlite3", "django.db.backends.postgresql"}:
    raise ImproperlyConfigured(f"DATABASE_URL must point to SQLite or PostgreSQL, got engine {_engine!r}")
if _engine == "django.db.backends.postgresql":
    DATABASES["default"]["CONN_MAX_AGE"] = _env_int("DATABASE_CONN_MAX_AGE", 60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if _engine == "django.db.backends.sqlite3":
    # Several writers at once (workers, the admin, an import): a write transaction takes the file's
    # write lock when it begins (IMMEDIATE), so two never deadlock upgrading their read locks, and
    # waits up to 20 s for the other's commit instead of failing with "database is locked"; in WAL
    # mode readers go on while one writes.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"transaction_mode": "IMMEDIATE", "timeout": 20, "init_command": "PRAGMA journal_mode=WAL;"}
    )


# A Redis that stops answering costs a request at most CACHE_SOCKET_TIMEOUT (to connect, and to
# read each reply); after a failure the process answers without the cache for CACHE_RETRY_SECONDS
# before it tries again, so an outage costs one wait per process and interval, not one per request
# (counties.caching.redis_backend).
CACHE_SOCKET_TIMEOUT = _env_seconds("CACHE_SOCKET_TIMEOUT", 0.5, 0, 10)
CACHE_RETRY_SECONDS = _env_seconds("CACHE_RETRY_SECONDS", 5, 0, 300)


def cache_from_url(url: str, name: str = "CACHE_URL") -> dict:
    """The default cache from a URL: redis:// (production), locmemcache:// or dbcache://.

    The API's throttle counters live in this cache, so with several workers only a shared cache
    (Redis) enforces the limits across them; a per-process cache (locmem) counts per worker.
    Cached statistics are keyed by a data token kept in the database, so they stay correct in
    any cache; a shared one only saves recomputation.
    """
    parts = urlsplit(url)
    if parts.scheme in ("redis", "rediss"):
        database = parts.path.lstrip("/")
        if not parts.hostname or (database and not database.isdigit()):
            # The URL itself is not repeated: it may carry a password.
            raise ImproperlyConfigured(f"{name} must look like redis://host:6379/0 (a host, and a database number if any)")
        try:
            parts.port  # noqa: B018 (parsing it raises ValueError on a bad port)
        except ValueError:
            raise ImproperlyConfigured(f"{name} has a port that is not a number") from None
        return {
            "BACKEND": "counties.caching.redis_backend.RedisCache",
            "LOCATION": url,
            "KEY_PREFIX": "registry",
            "OPTIONS": {"socket_connect_timeout": CACHE_SOCKET_TIMEOUT, "socket_timeout": CACHE_SOCKET_TIMEOUT},
        }
    if parts.scheme in ("locmemcache", "dbcache"):
        return env.cache_url_config(url)
    raise ImproperlyConfigured(
        f"{name} must be redis://host:port/db (or rediss://), locmemcache://name or dbcache://table, got a {parts.scheme or 'bare'!r} URL"
    )


CACHES = {"default": cache_from_url(env.str("CACHE_URL", default="locmemcache://registry"))}

# HTTP caching (counties.caching.responses). Every anonymous read (pages, API, exports, sitemap) carries
# `Cache-Control: public, max-age=CACHE_MAX_AGE` and a strong ETag: a proxy or CDN in front may
# serve it for that many seconds after an edit, so keep it short. With RESPONSE_CACHE on, the
# answers themselves are kept in the default cache, keyed by the data token (never stale), for at
# most RESPONSE_CACHE_SECONDS (that only bounds the memory they take).
CACHE_MAX_AGE = _env_int("CACHE_MAX_AGE", 60)
RESPONSE_CACHE = _env_bool("RESPONSE_CACHE", True)
RESPONSE_CACHE_SECONDS = _env_int("RESPONSE_CACHE_SECONDS", 3600)
if CACHE_MAX_AGE < 0:
    raise ImproperlyConfigured(f"CACHE_MAX_AGE must be 0 or more seconds, got {CACHE_MAX_AGE}")
# Each process also keeps finished anonymous answers in memory (counties.caching.front_door), at most
# this many bytes (0: none); an answer larger than an eighth of it is not kept.
FRONT_CACHE_BYTES = _env_int("FRONT_CACHE_BYTES", 32 * 1024 * 1024)
if FRONT_CACHE_BYTES < 0:
    raise ImproperlyConfigured(f"FRONT_CACHE_BYTES must be 0 or more bytes, got {FRONT_CACHE_BYTES}")
if RESPONSE_CACHE_SECONDS < 1:
    raise ImproperlyConfigured(f"RESPONSE_CACHE_SECONDS must be a positive number of seconds, got {RESPONSE_CACHE_SECONDS}")

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# URL fields in forms assume https:// when typed without a scheme (Django 6's default).
FORMS_URLFIELD_ASSUME_HTTPS = True

# Repeated failed sign-ins lock the account out from that address for a while (django-axes);
# every lock-out is logged and kept in the admin (Axes › Access attempts).
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_FAILURE_LIMIT = _env_int("LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=_env_int("LOGIN_LOCKOUT_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "admin/locked_out.html"

# Imports and exports run in one transaction each: a file with an error writes nothing.
IMPORT_EXPORT_USE_TRANSACTIONS = True
IMPORT_EXPORT_IMPORT_PERMISSION_CODE = "add"
IMPORT_EXPORT_EXPORT_PERMISSION_CODE = "view"
IMPORT_EXPORT_SKIP_ADMIN_LOG = False
# Between choosing a file and confirming it the upload is kept in the database, which every
# instance reaches and which evicts nothing (an LRU cache could drop it mid-flow); the confirmation
# claims it there so that it is written once (counties.writes.imports.kept).
IMPORT_EXPORT_TMP_STORAGE_CLASS = "counties.writes.imports.kept.DatabaseStorage"
SIMPLE_HISTORY_REVERT_DISABLED = True

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Chinese first, English second.
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage" if DEBUG else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# Where `load_reference_data` reads its files from (copies of ../shared/data with provenance).
REFERENCE_DATA_DIR = Path(env.str("REFERENCE_DATA_DIR", default=str(BASE_DIR / "data")))

# The data package (/data/, counties.reads.data_package): the directory where `build_data_package`
# writes each data version's files and every app instance reads them (a volume they all share), and
# how many versions are kept (the newest first; older ones are pruned after a build).
DATA_PACKAGE_DIR = Path(env.str("DATA_PACKAGE_DIR", default=str(BASE_DIR / "var" / "data-package")))
if not DATA_PACKAGE_DIR.is_absolute():
    raise ImproperlyConfigured(f"DATA_PACKAGE_DIR must be an absolute path, got {str(DATA_PACKAGE_DIR)!r}")
if DATA_PACKAGE_DIR.exists() and not DATA_PACKAGE_DIR.is_dir():
    raise ImproperlyConfigured(f"DATA_PACKAGE_DIR must be a directory, got the file {str(DATA_PACKAGE_DIR)!r}")
DATA_PACKAGE_KEEP = _env_int("DATA_PACKAGE_KEEP", 3)
if DATA_PACKAGE_KEEP < 1:
    raise ImproperlyConfigured(f"DATA_PACKAGE_KEEP must be a positive number of versions, got {DATA_PACKAGE_KEEP}")

# Security. With DEBUG off these default to the strict values `check --deploy` asks for; the
# deployment is expected behind a proxy that terminates TLS and sets X-Forwarded-Proto.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = _env_bool("SECURE_SSL_REDIRECT", not DEBUG)
# The health check is called over plain HTTP from inside the container.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
SECURE_HSTS_SECONDS = _env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = _env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = _env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
SESSION_COOKIE_SECURE = _env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = _env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# Who the client is (API throttles, sign-in lock-outs): REMOTE_ADDR, unless the site runs behind
# this many reverse proxies that each append to X-Forwarded-For; then the address that many places
# from its right, the one the outermost trusted proxy saw. Anything further left is the client's
# own claim and is never trusted.
TRUSTED_PROXY_COUNT = _env_int("TRUSTED_PROXY_COUNT", 0)
if TRUSTED_PROXY_COUNT < 0:
    raise ImproperlyConfigured(f"TRUSTED_PROXY_COUNT must be 0 or more, got {TRUSTED_PROXY_COUNT}")
AXES_CLIENT_IP_CALLABLE = "counties.caching.clients.client_ip"

# Import files (admin and command line): the largest file, its unzipped size (XLSX) and rows.
IMPORT_MAX_BYTES = _env_int("IMPORT_MAX_BYTES", 10 * 1024 * 1024)
IMPORT_MAX_EXPANDED_BYTES = _env_int("IMPORT_MAX_EXPANDED_BYTES", 50 * 1024 * 1024)
IMPORT_MAX_ROWS = _env_int("IMPORT_MAX_ROWS", 20000)
# How long a file read on the admin's import page stays confirmable (and a confirmed one is
# remembered, so that a repeated confirmation is told which import wrote it).
IMPORT_KEPT_HOURS = _env_int("IMPORT_KEPT_HOURS", 24)
for _name in ("IMPORT_MAX_BYTES", "IMPORT_MAX_EXPANDED_BYTES", "IMPORT_MAX_ROWS", "IMPORT_KEPT_HOURS"):
    if globals()[_name] < 1:
        raise ImproperlyConfigured(f"{_name} must be a positive number, got {globals()[_name]}")

# How long the change feed keeps its changes (`manage.py prune_changes` removes older ones); a
# client whose cursor is older starts again from the data package at /data/.
CHANGE_FEED_KEPT_DAYS = _env_int("CHANGE_FEED_KEPT_DAYS", 400)
if CHANGE_FEED_KEPT_DAYS < 1:
    raise ImproperlyConfigured(f"CHANGE_FEED_KEPT_DAYS must be a positive number of days, got {CHANGE_FEED_KEPT_DAYS}")

# Content-Security-Policy (django-csp): everything comes from the site itself, no inline script or
# style anywhere (the API docs' set-up script is served as a file); data: images for Swagger UI's icons.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
# Permissions-Policy (django-permissions-policy): the site uses none of these browser features.
PERMISSIONS_POLICY: dict[str, list[str]] = {
    feature: []
    for feature in (
        "accelerometer",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "payment",
        "usb",
        "interest-cohort",
    )
}

# The partner API. Anonymous clients read; writes need an API token (see counties.api).
API_THROTTLE_RATES = {
    "anon": _env_rate("API_ANON_RATE", "60/minute"),
    "token": _env_rate("API_TOKEN_RATE", "1200/minute"),
    # The pages that cost the most to make (the CSV and XLSX downloads), per anonymous client.
    "export": _env_rate("EXPORT_ANON_RATE", "10/minute"),
}
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["counties.api.authentication.ApiTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["counties.api.permissions.RegistryApiPermission"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "counties.api.pagination.RegistryPagination",
    "DEFAULT_PARSER_CLASSES": [
        "counties.api.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_RENDERER_CLASSES": [
        "counties.api.renderers.FastJSONRenderer",
        "counties.api.renderers.CSVRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "counties.api.renderers.FormatNegotiation",
    "DEFAULT_THROTTLE_CLASSES": ["counties.caching.throttling.AnonThrottle", "counties.caching.throttling.TokenThrottle"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "counties.api.exceptions.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Rural e-commerce demonstration county registry API",
    "DESCRIPTION": (
        "Read the registry of China's rural e-commerce comprehensive demonstration counties: county-level "
        "units with their code history, the 832 poverty counties, batches, designations, funding and the "
        "coverage statistics. v1 is stable: fields and parameters are only ever added, never removed or "
        "changed in meaning. Decimal values (yuan, percentages) are strings."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "counties.api.schema.drop_database_limits",
    ],
    "ENUM_NAME_OVERRIDES": {"SourceKindEnum": "counties.models.base.SourceKind"},
}
# Browser clients of other origins may read the API, never write to it.
CORS_URLS_REGEX = r"^/api/.*$"
CORS_ALLOW_ALL_ORIGINS = True
CORS_ALLOW_METHODS = ["GET", "HEAD", "OPTIONS"]
CORS_EXPOSE_HEADERS = ["ETag", "Last-Modified", "Retry-After", "Link", "X-Total-Count"]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        # django-axes announces itself at INFO on every start; lock-outs are WARNINGs and still show.
        "axes": {"level": "WARNING"},
        # Django's own console handler (DEBUG only) would print each 4xx a second time beside the root's.
        "django": {"handlers": [], "propagate": True},
    },
}

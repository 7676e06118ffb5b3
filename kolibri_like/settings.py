"""Django settings: maps the typed configuration of `kolibri_like.config` to Django's names.

Nothing here reads the environment directly; change `config.py` to add a setting.
"""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path

import dj_database_url

from kolibri_like.config import load_config, machine_hosts

CONFIG = load_config()
HOME: Path = CONFIG.home
CONTENT_DIR: Path = CONFIG.content_dir
# The seed's name for the file store's root; the store itself is `storage/`.
CONTENT_STORAGE_DIR: Path = CONTENT_DIR / "storage"
CONTENT_DATABASE_DIR: Path = CONTENT_DIR / "databases"
CONTENT_TEMP_DIR: Path = CONTENT_DIR / "tmp"
LOG_DIR: Path = HOME / "logs"

for _folder in (HOME, HOME / "static", CONTENT_STORAGE_DIR, CONTENT_DATABASE_DIR, CONTENT_TEMP_DIR, LOG_DIR):
    _folder.mkdir(parents=True, exist_ok=True)


def _secret_key(home: Path) -> str:
    """Generated on the first run and kept, so sessions survive restarts."""
    path = home / "secret_key"
    if not path.exists():
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_urlsafe(50))
    return path.read_text().strip()


BASE_DIR = Path(__file__).resolve().parent.parent
SECRET_KEY = _secret_key(HOME)
DEBUG = CONFIG.debug
ALLOWED_HOSTS = sorted(set(machine_hosts()) | set(CONFIG.allowed_hosts))
SERVER_NAME = CONFIG.server_name
ALLOW_GUEST_ACCESS = CONFIG.allow_guest_access
MAX_UPLOAD_SIZE = CONFIG.max_upload_size
ZEROCONF_ENABLED = CONFIG.zeroconf_enabled
# The sandbox origin for HTML5 apps (kolibri_like/zip_app.py); `start` sets the port it chose.
ZIP_PORT: int = CONFIG.values["ZIP_PORT"]
FFMPEG_BINARY = CONFIG.ffmpeg_binary
ENCODE_TIMEOUT_SECONDS = CONFIG.encode_timeout_seconds
SOFFICE_BINARY: str = CONFIG.values["SOFFICE_BINARY"]
# Resource limits of every ffmpeg and LibreOffice run (media/launch.py).
MEDIA_MEMORY_LIMIT: int = CONFIG.values["MEDIA_MEMORY_LIMIT"]
MEDIA_CPU_LIMIT_SECONDS: int = CONFIG.values["MEDIA_CPU_LIMIT_SECONDS"]
MEDIA_FILE_SIZE_LIMIT: int = CONFIG.values["MEDIA_FILE_SIZE_LIMIT"]
# The certificate PDF renders in a process of its own, killed past this (learning/certificate_pdf.py).
CERTIFICATE_RENDER_TIMEOUT_SECONDS: int = CONFIG.values["CERTIFICATE_RENDER_TIMEOUT_SECONDS"]
CONVERT_TIMEOUT_SECONDS: int = CONFIG.values["CONVERT_TIMEOUT_SECONDS"]
CONTENT_DB_CONNECTIONS_PER_THREAD = CONFIG.content_db_connections_per_thread
# Who decides whether a channel's file may be served (registered and checked); routers/ asks it
# through this dotted path so that it depends on no app of ours.
CONTENT_DB_CHANNEL_GATE = "channels.selectors.is_channel_servable"
# Who keeps stored files alive (storage.references): the collector spares every checksum these
# return and deletes nothing if one fails. Apps with files of their own add their source here.
STORAGE_REFERENCE_SOURCES = ["channels.references.ChannelReferenceSource",
                             "authoring.references.DraftReferenceSource"]
# Unreferenced stored files younger than this are kept (a publish stores files before it
# installs the version that references them).
STORAGE_GC_GRACE_SECONDS = 24 * 60 * 60

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "mptt",
    "huey.contrib.djhuey",
    "routers",
    "accounts",
    "content",
    "storage",
    "channels",
    "frontend",
    "jobs",
    "authoring",
    "learning",
    "operations",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # Where Django's docs put it: after sessions, before common (which may redirect). The
    # language comes from the cookie set_language writes, else from Accept-Language.
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "routers.middleware.ContentDBRoutingMiddleware",
]

ROOT_URLCONF = "kolibri_like.urls"
WSGI_APPLICATION = "kolibri_like.wsgi.application"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "/login/"
# Django's four validators (length, not all digits, not common, not like the username): every
# form and API that sets a password uses them (accounts.services.password_problems).
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/"

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
                "frontend.context_processors.site",
                "frontend.context_processors.admin_clock",
                "kolibri_like.zip_app.zip_origin",
            ],
        },
    },
]


def _default_database(url: str) -> dict:
    database = dj_database_url.parse(url, conn_max_age=600, conn_health_checks=True)
    if database["ENGINE"] == "django.db.backends.sqlite3":
        # Kept open per thread: opening a SQLite file and running the PRAGMAs below on every
        # request cost the content API a fifth of its throughput. A file has no server that
        # could drop the connection, so no health check.
        database["CONN_HEALTH_CHECKS"] = False
        # Many threads write progress at once: WAL lets readers go on, IMMEDIATE takes the write
        # lock at BEGIN so two writers queue on the busy timeout instead of failing mid-transaction.
        database["OPTIONS"] = {
            "timeout": 30,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    return database


DATABASES = {"default": _default_database(CONFIG.database_url)}
DATABASE_ROUTERS = ["routers.db_router.ContentDBRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

if CONFIG.redis_url:
    HUEY = {
        "huey_class": "huey.RedisHuey",
        "name": CONFIG.queue_name,
        "url": CONFIG.redis_url,
        "immediate": False,
        # An idle worker looks at the queue at least every second (Huey's default backs off
        # to 10 s), so an upload's encode starts at once.
        "consumer": {"workers": 2, "worker_type": "thread", "max_delay": 1.0},
    }
else:
    HUEY = {
        "huey_class": "huey.SqliteHuey",
        "name": CONFIG.queue_name,
        "filename": str(HOME / "queue.sqlite3"),
        "immediate": False,
        # An idle worker looks at the queue at least every second (Huey's default backs off
        # to 10 s), so an upload's encode starts at once.
        "consumer": {"workers": 2, "worker_type": "thread", "max_delay": 1.0},
    }

REST_FRAMEWORK = {
    # Token first: a bad or missing credential then answers 401 with `WWW-Authenticate: Token`.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["accounts.permissions.GuestReadable"],
    "DEFAULT_PAGINATION_CLASS": "kolibri_like.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "EXCEPTION_HANDLER": "kolibri_like.api_errors.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "DEFAULT_SCHEMA_CLASS": "kolibri_like.openapi.AutoSchema",
}

# The OpenAPI document (/api/schema/) and its Swagger UI (/api/docs/); the UI's scripts come
# from drf-spectacular-sidecar's static files, never a CDN (kolibri_like/openapi/).
SPECTACULAR_SETTINGS = {
    "TITLE": "kolibri-like API",
    "DESCRIPTION": "The HTTP API of kolibri-like (INTERFACE.md). Errors are `{\"detail\"}`; "
                   "lists are `{count, next, previous, results}` with `?page=` and `?page_size=`.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "PREPROCESSING_HOOKS": ["kolibri_like.openapi.load"],
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums",
                             "kolibri_like.openapi.describe_path_ids"],
}

LANGUAGE_CODE = "en"
# The UI languages (README "Languages"). Our catalogs live in each app's locale/ folder; listed
# here so they win over django.contrib's own ("Username", "Breadcrumbs"), which apps listed
# earlier in INSTALLED_APPS would otherwise provide.
LANGUAGES = [("en", "English"), ("fr", "Français"), ("ar", "العربية")]
# kolibri_like is no app: its catalog (the API's own error sentences) is listed here too.
LOCALE_PATHS = [BASE_DIR / app / "locale"
                for app in ("frontend", "accounts", "learning", "kolibri_like")]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = HOME / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "SAMEORIGIN"
# `manage.py check --deploy` passes (tests/kolibri_like/test_deploy_check.py). What it warns
# about and a classroom server on plain HTTP must accept (SECURITY.md, "Plain HTTP on a LAN"):
SILENCED_SYSTEM_CHECKS = [] if DEBUG else [
    # SECURE_HSTS_SECONDS: no HTTPS on a LAN address by default, and HSTS would lock every
    # browser that once saw `start --https` out of the plain-HTTP address for its max-age.
    "security.W004",
    # SECURE_SSL_REDIRECT: an https:// redirect on a server without TLS serves no page at all.
    "security.W008",
    # SESSION_COOKIE_SECURE and CSRF_COOKIE_SECURE: a browser never sends a Secure cookie over
    # http://, so nobody could log in. `start --https` turns both on (kolibri_like/server.py).
    "security.W012",
    "security.W016",
    # X_FRAME_OPTIONS = "DENY": the PDF player embeds our own /content/storage/ PDFs in an
    # <object>, which DENY blocks; SAMEORIGIN still refuses every other site's frames.
    "security.W019",
]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {
        "file": {
            "class": "logging.handlers.RotatingFileHandler",
            # The task consumer gets its own file: two processes rotating one file lose lines.
            "filename": str(LOG_DIR / ("consumer.log" if "run_huey" in sys.argv[1:2]
                                       else "kolibri-like.log")),
            "maxBytes": 5 * 1024 * 1024,
            "backupCount": 5,
            "formatter": "plain",
        },
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "level": "WARNING"},
    },
    "root": {"handlers": ["file", "console"], "level": "INFO"},
}

"""Settings for CME Portal, read from the environment (DESIGN.md §6).

With nothing set the portal runs on a SQLite file with Celery tasks executed
eagerly; `make run` adds DEBUG=1. Production sets DATABASE_URL (PostgreSQL),
REDIS_URL (Celery broker and shared cache), SECRET_KEY, ALLOWED_HOSTS and
PORTAL_BASE_URL.
"""

from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

# A placeholder that is only good for development: production refuses it.
INSECURE_SECRET_KEY = "insecure-development-key-change-me"

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default=INSECURE_SECRET_KEY)
if not DEBUG and SECRET_KEY == INSECURE_SECRET_KEY:
    raise ImproperlyConfigured(
        "SECRET_KEY must be set when DEBUG is off: production refuses the "
        "development key. Set SECRET_KEY in the environment (or DEBUG=1 for development)."
    )

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# The origin printed in every QR code (check-in posters, certificates).
PORTAL_BASE_URL = env.str("PORTAL_BASE_URL", default="http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "crispy_forms",
    "crispy_bootstrap5",
    "import_export",
    "captcha",
    "django_filters",
    "cme_portal.accounts",
    "cme_portal.review",
    "projects",
    "attendance",
    "credits",
    "certificates",
    # The API (issue 14): Django REST framework + drf-spectacular, Swagger UI vendored by the sidecar package.
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "cme_portal.api",
    "cme_portal.notifications",
    "cme_portal.support",
    # Who changed what beyond review transitions (django-auditlog, MIT): cme_portal/audit/.
    "auditlog",
    "cme_portal.audit",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Pages go out compressed (Django's GZip adds random bytes against BREACH); static files are served
    # precompressed (Brotli or gzip) by WhiteNoise with far-future cache headers on hashed names.
    "django.middleware.gzip.GZipMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Before any view reads the body: a request over MAX_REQUEST_BYTES is refused unread, in Chinese.
    "cme_portal.middleware.RequestSizeLimitMiddleware",
    "cme_portal.middleware.NoStoreMiddleware",
    "cme_portal.middleware.LazyMessageMiddleware",  # Django's, its storage made on first use
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    # Inside the messages middleware: a committed action whose tasks could not be queued says so.
    "cme_portal.queueing.QueueingMiddleware",
    "cme_portal.audit.services.AuditMiddleware",
]

ROOT_URLCONF = "cme_portal.urls"
WSGI_APPLICATION = "cme_portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "cme_portal.accounts.context_processors.navigation",
                "cme_portal.review.context_processors.unread_notifications",
                "projects.context_processors.navigation",
                "credits.context_processors.navigation",
                "attendance.context_processors.navigation",
            ],
        },
    },
]

# --- Database --------------------------------------------------------------
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
elif DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets `make run` serve pages while an eager task writes.
    DATABASES["default"].setdefault("OPTIONS", {})["init_command"] = "PRAGMA journal_mode=WAL;"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache, Celery ---------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")

if REDIS_URL:
    # Rate limits and lockouts must be shared by every web process.
    CACHES = {
        "default": {
            # Redis with a per-process fallback: a Redis outage never takes pages down (cme_portal/cache.py).
            "BACKEND": "cme_portal.cache.ResilientRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="cme"),
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

CELERY_BROKER_URL = REDIS_URL or "memory://localhost/"
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
# A task is acknowledged only once it has finished, and handed to another
# worker if its worker dies: every task is written to be safe to run twice.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# A worker process loads the certificate fonts and key when it starts (certificates.services.warm_up): about a
# second, several on a loaded machine, so more than Celery's 4 s before it gives up on a new process.
CELERY_WORKER_PROC_ALIVE_TIMEOUT = 30
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=300)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=360)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A message taken by a worker that dies is handed out again after the visibility timeout: it must be
# longer than the longest task (the catalogue import may run an hour: projects.services.IMPORT_TIME_LIMIT),
# or a long task still running would be started twice. What a whole dead worker leaves sooner than that,
# the reconciler queues again (certificates.reconcile).
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": 3600 + 300,
    "socket_connect_timeout": 2,
    "socket_timeout": 5,
}
# Publishing to an absent broker gives up within a second: the action has committed, the reconciler follows.
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.5}
RECONCILE_GRACE_SECONDS = env.int("RECONCILE_GRACE_SECONDS", default=300)
RECONCILE_FILE_CHECK_DAYS = env.int("RECONCILE_FILE_CHECK_DAYS", default=2)
CELERY_TIMEZONE = "Asia/Shanghai"
CELERY_BEAT_SCHEDULE = {
    "remind-roster-deadlines": {
        "task": "attendance.tasks.remind_roster_deadlines",
        "schedule": timedelta(hours=24),
    },
    "purge-expired-bulk-downloads": {
        "task": "certificates.tasks.purge_expired_bulk_downloads",
        "schedule": timedelta(hours=1),
    },
    "purge-expired-background-jobs": {
        "task": "credits.tasks.purge_expired_jobs",
        "schedule": timedelta(hours=1),
    },
    # The notification outbox (cme_portal/notifications): pending deliveries re-sent, reviewers' digests.
    "sweep-notification-deliveries": {
        "task": "cme_portal.notifications.tasks.sweep_deliveries",
        "schedule": timedelta(minutes=1),
    },
    "remind-entry-deadlines": {
        "task": "credits.tasks.remind_entry_deadlines",
        "schedule": timedelta(hours=24),
    },
    "purge-old-api-calls": {
        "task": "cme_portal.api.tasks.purge_old_api_calls",
        "schedule": timedelta(hours=24),
    },
    "send-daily-digests": {
        "task": "cme_portal.notifications.tasks.send_daily_digests",
        "schedule": crontab(hour=8, minute=0),
    },
    "reconcile-lost-work": {
        "task": "certificates.tasks.reconcile",
        "schedule": timedelta(minutes=5),
    },
    "purge-expired-sms-codes": {
        "task": "cme_portal.accounts.tasks.purge_expired_sms_codes",
        "schedule": timedelta(hours=1),
    },
}

# --- Accounts --------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["cme_portal.accounts.backends.IdentifierBackend"]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "accounts:dashboard"
LOGOUT_REDIRECT_URL = "home"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Failed logins: an account locks for LOGIN_LOCKOUT_MINUTES after this many from one address (that
# address only, so a stranger cannot lock the owner out); an account failed this often in an hour from
# anywhere asks everyone for a captcha (the slower global back-off). A reset by SMS ends both.
LOGIN_MAX_FAILURES = env.int("LOGIN_MAX_FAILURES", default=5)
LOGIN_LOCKOUT_MINUTES = env.int("LOGIN_LOCKOUT_MINUTES", default=15)
LOGIN_ACCOUNT_CAPTCHA_AFTER = env.int("LOGIN_ACCOUNT_CAPTCHA_AFTER", default=20)
# A client address that fails this often is asked for a captcha.
LOGIN_CAPTCHA_AFTER = env.int("LOGIN_CAPTCHA_AFTER", default=3)

# SMS: a pluggable backend, reached only from a Celery task.
SMS_BACKEND = env.str("SMS_BACKEND", default="cme_portal.accounts.sms.ConsoleBackend")
SMS_CODE_TTL_SECONDS = env.int("SMS_CODE_TTL_SECONDS", default=300)
SMS_CODE_MAX_ATTEMPTS = 5
SMS_RESEND_SECONDS = env.int("SMS_RESEND_SECONDS", default=60)
SMS_MAX_PER_NUMBER_PER_DAY = env.int("SMS_MAX_PER_NUMBER_PER_DAY", default=10)
SMS_MAX_PER_ADDRESS_PER_HOUR = env.int("SMS_MAX_PER_ADDRESS_PER_HOUR", default=20)
# Show the code on the page: only when this setting is given (never by default, not even under DEBUG or
# `make run`: anyone could take over any demo account by password reset).
SMS_SHOW_CODE_IN_PAGE = env.bool("SMS_SHOW_CODE_IN_PAGE", default=False)

# Number of reverse proxies in front of the portal whose X-Forwarded-For is trusted.
NUM_PROXIES = env.int("NUM_PROXIES", default=0)

# --- Internationalisation --------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- Static and uploaded files --------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(BASE_DIR / "media")))
# No MEDIA_URL route is served: files leave only through views that check scope.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "cme_portal.staticstorage.CachedUrlStaticFilesStorage"
        )
    },
}
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FILES = 100
# The largest upload is one 50 MB file (a material, or evidence files together) plus its form: a body
# declared larger is refused before it is read (cme_portal.middleware.RequestSizeLimitMiddleware).
MAX_REQUEST_BYTES = env.int("MAX_REQUEST_BYTES", default=51 * 1024 * 1024)
# Anonymous pages that show a person's details: never kept by a cache (signed-in pages and files always).
NO_STORE_PATHS = ["/attendance/", "/certificates/", "/accounts/"]

# --- Forms -----------------------------------------------------------------
CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"
CAPTCHA_LENGTH = 4
CAPTCHA_IMAGE_SIZE = (110, 38)
CAPTCHA_FONT_SIZE = 28

# --- E-mail ----------------------------------------------------------------
# Django 6.1 configures mail through MAILERS (the EMAIL_* settings are deprecated).
MAILERS = {
    "default": {
        "BACKEND": env.str("MAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend"),
        "OPTIONS": {
            key: value
            for key, value in {
                "host": env.str("MAIL_HOST", default=""),
                "port": env.int("MAIL_PORT", default=0),
                "username": env.str("MAIL_USER", default=""),
                "password": env.str("MAIL_PASSWORD", default=""),
                "use_tls": env.bool("MAIL_USE_TLS", default=False),
            }.items()
            if value
        },
    }
}
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="cme-portal@localhost")

# --- Security --------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = 60 * 60 * 8
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "object-src": [CSP.NONE],
}
if not DEBUG:
    # Behind TLS in production; a plain-HTTP intranet sets SECURE_COOKIES=0.
    SESSION_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=True)
    CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
    if NUM_PROXIES > 0:
        # Only a proxy we were told about may say the request came over TLS; without one, anyone could.
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=False)
    # Secure cookies mean the site is served over TLS: browsers are told to keep to it (a year).
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31_536_000 if SESSION_COOKIE_SECURE else 0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # JSON lines in production; readable lines with their fields when DEBUG (make run).
    "formatters": {
        "json": {"()": "cme_portal.logs.JsonFormatter"},
        "readable": {"()": "cme_portal.logs.ReadableFormatter", "format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": env.str("LOG_FORMAT", default="readable" if DEBUG else "json")}
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# --- API (/api/v1/, DESIGN.md §6) ------------------------------------------------
# Calls a minute per token (platform batches and units' reads alike), counted in the shared cache.
API_RATE_LIMIT_PER_MINUTE = env.int("API_RATE_LIMIT_PER_MINUTE", default=60)
# How long the province admin's call log keeps a call.
API_CALL_LOG_DAYS = env.int("API_CALL_LOG_DAYS", default=365)
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["cme_portal.api.auth.BearerTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["cme_portal.api.auth.AnyToken"],
    "DEFAULT_THROTTLE_CLASSES": ["cme_portal.api.auth.TokenRateThrottle"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "cme_portal.api.views.exception_handler",
    "UNAUTHENTICATED_USER": None,
    # OPTIONS answers 405 like any method an operation does not have: the schema is the description.
    "DEFAULT_METADATA_CLASS": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "继续医学教育管理平台 API",
    "DESCRIPTION": (
        "远程教育平台推送学分记录；单位系统只读查询本单位学员的年度学分与达标情况。"
        "令牌由省继教办创建、轮换和停用。版本化：不兼容的变更发布为 /api/v2/。"
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {"FeedCodeEnum": "credits.platforms.FeedCode", "OutcomeEnum": "credits.platforms.Outcome"},
}
# Certificates are signed with the province's key (certificates/signing.py): PEM key and certificate files (the
# certificate file may carry the chain after the signer's certificate), or a PKCS#12 file and its password. With none
# configured, CERTIFICATE_SIGNING_SELF_SIGNED (on with DEBUG: the demo) makes a self-signed demo key in MEDIA_ROOT/keys.
CERTIFICATE_SIGNING_KEY = env.str("CERTIFICATE_SIGNING_KEY", default="")
CERTIFICATE_SIGNING_CERT = env.str("CERTIFICATE_SIGNING_CERT", default="")
CERTIFICATE_SIGNING_PKCS12 = env.str("CERTIFICATE_SIGNING_PKCS12", default="")
CERTIFICATE_SIGNING_PASSWORD = env.str("CERTIFICATE_SIGNING_PASSWORD", default="")
CERTIFICATE_SIGNING_SELF_SIGNED = env.bool("CERTIFICATE_SIGNING_SELF_SIGNED", default=DEBUG)
# The compliance totals' covering index (credits.LearnerYearTotal) has INCLUDE columns that SQLite ignores;
# PostgreSQL, where the report's size lives, uses them.
SILENCED_SYSTEM_CHECKS = ["models.W040"]

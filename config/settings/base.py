"""Settings shared by every environment. Everything that varies comes from the environment.

PostgreSQL is the only database engine: in development an embedded server from a PyPI wheel
(``config/embedded.py``, started by ``config.settings.local`` when ``DATABASE_URL`` is unset),
in tests and production a real one named by ``DATABASE_URL``. ``REDIS_URL`` names Redis (cache,
throttles, Celery broker); without it the cache is local memory and tasks run inline.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import environ

from apps.core.observability.sentry import configure_sentry

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False) if (BASE_DIR / ".env").exists() else None

DEBUG = env.bool("DJANGO_DEBUG", default=False)
SECRET_KEY = env("DJANGO_SECRET_KEY", default="dev-insecure-secret-key-change-me-0123456789abcdef")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
RELEASE = env("RELEASE", default="dev")
ENVIRONMENT = env("ENVIRONMENT", default="development")

# --- Applications -------------------------------------------------------------------------
DJANGO_APPS = [
    "apps.accounts.admin_config.StaffAdminConfig",  # django.contrib.admin with 2FA
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
]
THIRD_PARTY_APPS = [
    "rest_framework",
    "rest_framework_simplejwt",
    "rest_framework_simplejwt.token_blacklist",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI served from our own static files (CSP 'self')
    "corsheaders",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "waffle",  # feature flags for rollouts (apps/billing/flags.py)
]
LOCAL_APPS = [
    "apps.core",
    "apps.core.observability",
    "apps.accounts",
    "apps.billing",
    "apps.audit",
    "apps.taxonomy",
    "apps.questions",
    "apps.resources",
    "apps.cms",
    "apps.practice",
    "apps.exams",
    "apps.analytics",
    "apps.readiness",
    "apps.study",
    "apps.recommendations",
    "apps.notifications",
    "apps.dashboard",
    "apps.quality",
    # "apps.bench" (the benchmark's dataset command and control endpoints) is added by the
    # local and bench settings only.
]
INSTALLED_APPS = DJANGO_APPS + THIRD_PARTY_APPS + LOCAL_APPS

MIDDLEWARE = [
    "apps.core.observability.middleware.PrometheusMiddleware",
    "apps.core.middleware.RequestIdMiddleware",
    "apps.core.db_routing.ReadYourWritesMiddleware",  # inside the request's user id scope
    "apps.core.middleware.ApiJsonErrorsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "apps.core.middleware.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "apps.core.middleware.ApiHardeningMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"
AUTH_USER_MODEL = "accounts.User"

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
            ],
        },
    },
]

# --- Database ------------------------------------------------------------------------------
DATABASES = {
    "default": env.db("DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/openmrcs"),
}
if not DATABASES["default"]["ENGINE"].endswith("postgresql"):
    raise environ.ImproperlyConfigured("DATABASE_URL must name a PostgreSQL database")
# Django's PostgreSQL backend with a health check that costs no round trip while the connection
# is quiet (apps/core/postgres/base.py).
DATABASES["default"]["ENGINE"] = "apps.core.postgres"
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DATABASES["default"].setdefault("OPTIONS", {})
DATABASES["default"]["OPTIONS"].setdefault("connect_timeout", 5)
# Server-side parameter binding, and statements a connection has run 5 times kept prepared on
# the server: the hot statements then skip PostgreSQL's parse and plan (measured in
# docs/benchmark.md). Turn off behind a transaction-mode pooler (PgBouncer before 1.21), which
# cannot follow prepared statements across server connections.
if env.bool("DATABASE_PREPARED_STATEMENTS", default=True):
    DATABASES["default"]["OPTIONS"].setdefault("server_side_binding", True)
    DATABASES["default"]["OPTIONS"].setdefault("prepare_threshold", 5)
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"]["TEST"] = {"NAME": env("TEST_DATABASE_NAME", default=None)}
# Behind PgBouncer in transaction mode (README "PgBouncer and the read replica") each transaction
# may run on another server connection, so nothing may outlive a transaction on the server: no
# named prepared statements (psycopg's prepare_threshold None; PgBouncer before 1.21 cannot follow
# them) and no WITH HOLD cursors (Django's .iterator() outside a transaction). Session settings
# Django makes (TimeZone, client_encoding) are ones PgBouncer tracks and replays per client.
DATABASE_TRANSACTION_POOLING = env.bool("DATABASE_TRANSACTION_POOLING", default=False)
if DATABASE_TRANSACTION_POOLING:
    DATABASES["default"]["OPTIONS"]["prepare_threshold"] = None
    DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = True
# A streaming replica for the heavy reads marked with apps.core.db_routing.reading_from_replica;
# unset, everything runs on the primary. The replica is used only while its replay is at most
# MAX_LAG seconds behind (checked every CHECK seconds per process); a learner's reads stay on the
# primary for READ_YOUR_WRITES seconds after each of their writes (never less than MAX_LAG+CHECK).
DATABASE_REPLICA_URL = env("DATABASE_REPLICA_URL", default="")
if DATABASE_REPLICA_URL:
    _replica = env.db_url_config(DATABASE_REPLICA_URL)
    DATABASES["replica"] = {
        **{k: v for k, v in DATABASES["default"].items() if k not in ("TEST", "OPTIONS")},
        **_replica,
        "ENGINE": "apps.core.postgres",
        # A replica that went away costs a read at most this long before the primary serves it.
        "OPTIONS": {
            **DATABASES["default"]["OPTIONS"],
            "connect_timeout": 2,
            **_replica.get("OPTIONS", {}),
        },
        "TEST": {"MIRROR": "default"},
    }
DATABASE_ROUTERS = ["apps.core.db_routing.PrimaryReplicaRouter"]
DATABASE_REPLICA_MAX_LAG_SECONDS = env.float("DATABASE_REPLICA_MAX_LAG_SECONDS", default=5.0)
DATABASE_REPLICA_CHECK_SECONDS = env.float("DATABASE_REPLICA_CHECK_SECONDS", default=1.0)
READ_YOUR_WRITES_SECONDS = env.float("READ_YOUR_WRITES_SECONDS", default=6.0)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache (Redis if configured; failures degrade to a miss, never a 500) -----------------------
REDIS_URL = env("REDIS_URL", default="")
CACHE_KEY_PREFIX = env("CACHE_KEY_PREFIX", default="openmrcs")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": CACHE_KEY_PREFIX,
            "OPTIONS": {
                "CLIENT_CLASS": "django_redis.client.DefaultClient",
                "SOCKET_CONNECT_TIMEOUT": env.float("REDIS_CONNECT_TIMEOUT", default=0.25),
                "SOCKET_TIMEOUT": env.float("REDIS_SOCKET_TIMEOUT", default=0.25),
                "IGNORE_EXCEPTIONS": True,
            },
        }
    }
    DJANGO_REDIS_IGNORE_EXCEPTIONS = True
    DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True
    DJANGO_REDIS_LOGGER = "apps.core.cache"
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "openmrcs",
            "KEY_PREFIX": CACHE_KEY_PREFIX,
        }
    }

# --- Celery ----------------------------------------------------------------------------------
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL or "memory://")
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 300
CELERY_TASK_SOFT_TIME_LIMIT = 240
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {
    # A message taken by a worker that dies unacknowledged is redelivered after this many
    # seconds; workers sweep for such messages every interval x throttle seconds.
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600),
    "unacked_restore_interval": env.int("CELERY_UNACKED_RESTORE_INTERVAL", default=10),
    "unacked_restore_throttle": env.int("CELERY_UNACKED_RESTORE_THROTTLE", default=10),
    "socket_connect_timeout": 1,
    # A publish gives up fast when the broker is down (one immediate retry instead of kombu's
    # default of several seconds), so a request never waits on it; the notifications outbox
    # keeps what could not be published. Workers reconnect by their own, longer policy.
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
}
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {}  # filled in config/celery.py

# --- Passwords ---------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "apps.accounts.passwords.MaximumLengthValidator", "OPTIONS": {"max_length": 128}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "apps.accounts.passwords.BreachedPasswordValidator"},
    {"NAME": "apps.accounts.passwords.ContextWordsValidator"},
]
# Words of this service a password may not contain (ASVS 6.2.11), besides the email local part.
PASSWORD_CONTEXT_WORDS = ["openmrcs", "mrcs"]
# Breached passwords: a bundled offline list always; the HIBP range API only when enabled.
HIBP_ONLINE = env.bool("HIBP_ONLINE", default=False)
HIBP_API_URL = env("HIBP_API_URL", default="https://api.pwnedpasswords.com")
HIBP_TIMEOUT_SECONDS = env.float("HIBP_TIMEOUT_SECONDS", default=2.0)
# Argon2id (memory-hard, argon2-cffi) for every new hash; PBKDF2 hashes stored before still verify
# and are rehashed with Argon2 at the owner's next successful login (Django does it on check).
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
]

# --- Internationalisation ----------------------------------------------------------------------
LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
MEDIA_URL = "media/"
MEDIA_ROOT = BASE_DIR / "media"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# --- Email -----------------------------------------------------------------------------------
EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
EMAIL_TIMEOUT = 10
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="OpenMRCS <no-reply@openmrcs.local>")
FRONTEND_URL = env("FRONTEND_URL", default="http://localhost:3000")

# --- REST framework ----------------------------------------------------------------------------
REST_FRAMEWORK: dict[str, Any] = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["apps.accounts.authentication.SessionJWTAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        # JSON and form bodies are held to DATA_UPLOAD_MAX_MEMORY_SIZE and a JSON body nested too
        # deep is a 400 (DRF's own let a RecursionError out): apps/core/api/parsers.py.
        "apps.core.api.parsers.JSONParser",
        "rest_framework.parsers.MultiPartParser",
        "apps.core.api.parsers.FormParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "apps.core.pagination.PageNumberPagination",
    "PAGE_SIZE": 20,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "apps.core.api.exception_handler.handle_exception",
    "DEFAULT_THROTTLE_CLASSES": [
        "apps.core.api.throttling.AnonRateThrottle",
        "apps.core.api.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env("THROTTLE_ANON", default="300/min"),
        "user": env("THROTTLE_USER", default="3000/min"),
        "login": env("THROTTLE_LOGIN", default="10/min"),
        "register": env("THROTTLE_REGISTER", default="10/hour"),
        "password_reset": env("THROTTLE_PASSWORD_RESET", default="5/hour"),
        "export": env("THROTTLE_EXPORT", default="10/hour"),
        "import": env("THROTTLE_IMPORT", default="30/hour"),
    },
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "OpenMRCS API",
    "DESCRIPTION": "Question bank, practice, timed mock exams and analytics for MRCS candidates.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    # Enum components named after the domain, so equal field names in other apps never collide
    # (a collision is a schema warning, and schema warnings fail the deploy check).
    "ENUM_NAME_OVERRIDES": {
        "QuestionTypeEnum": "apps.questions.models.QuestionType",
        "QuestionStatusEnum": "apps.questions.models.QuestionStatus",
        "MediaKindEnum": "apps.questions.models.MediaKind",
        "ResourceKindEnum": "apps.resources.models.ResourceKind",
        "EntitlementEnum": "apps.billing.models.Entitlement",
        "PlanIntervalEnum": "apps.billing.models.PlanInterval",
        "StripeEventOutcomeEnum": "apps.billing.models.EventOutcome",
    },
}

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env.int("JWT_ACCESS_MINUTES", default=5)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env.int("JWT_REFRESH_DAYS", default=14)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": False,
    "ALGORITHM": "HS256",
    "SIGNING_KEY": env("JWT_SIGNING_KEY", default=SECRET_KEY),
    "AUDIENCE": env("JWT_AUDIENCE", default="openmrcs-api"),
    "ISSUER": env("JWT_ISSUER", default="openmrcs"),
    "AUTH_HEADER_TYPES": ("Bearer",),
    "USER_ID_FIELD": "id",
    "USER_ID_CLAIM": "user_id",
    "LEEWAY": 5,
}
# Django Admin needs a TOTP code from a confirmed device (manage.py create_totp_device).
ADMIN_REQUIRE_OTP = env.bool("ADMIN_REQUIRE_OTP", default=True)
OTP_TOTP_ISSUER = "OpenMRCS"  # the name authenticator apps show for the admin code
# An absolute limit on a login's life: refresh rotation cannot extend a session past this.
AUTH_SESSION_ABSOLUTE_LIFETIME = timedelta(days=env.int("AUTH_SESSION_MAX_DAYS", default=30))
# Durable brute-force limit (database-backed, so it holds with Redis down): failures per account
# and source (known device or network) per hour; past as many from strangers, each further
# stranger attempt waits BASE seconds, doubling, at most MAX (apps/accounts/services/limits.py).
LOGIN_MAX_FAILURES_PER_HOUR = env.int("LOGIN_MAX_FAILURES_PER_HOUR", default=10)
LOGIN_SLOWDOWN_BASE_SECONDS = env.int("LOGIN_SLOWDOWN_BASE_SECONDS", default=15)
LOGIN_SLOWDOWN_MAX_SECONDS = env.int("LOGIN_SLOWDOWN_MAX_SECONDS", default=900)
# Reset emails per address per hour, counted in PostgreSQL whatever the state of Redis.
PASSWORD_RESET_EMAILS_PER_HOUR = env.int("PASSWORD_RESET_EMAILS_PER_HOUR", default=5)
# Single-use links sent by email: password reset (short) and email verification.
PASSWORD_RESET_TIMEOUT = env.int("PASSWORD_RESET_TIMEOUT_SECONDS", default=3600)
EMAIL_VERIFICATION_MAX_AGE = env.int("EMAIL_VERIFICATION_MAX_AGE_SECONDS", default=3 * 24 * 3600)
# Revoked or expired device sessions are kept this long (for the audit of devices), then flushed.
AUTH_SESSION_RETENTION = timedelta(days=env.int("AUTH_SESSION_RETENTION_DAYS", default=30))
# Readiness probe: per-check budget in seconds.
HEALTH_CHECK_TIMEOUT = env.float("HEALTH_CHECK_TIMEOUT", default=2.0)

CORS_ALLOWED_ORIGINS = env.list("CORS_ALLOWED_ORIGINS", default=["http://localhost:3000"])
CORS_URLS_REGEX = r"^/api/.*$"
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# --- Product rules -----------------------------------------------------------------------------
# A category counts as "completed" on the dashboard when the candidate has answered at least
# N of its questions with at least X% correct.
COMPLETION_MIN_ANSWERED = env.int("COMPLETION_MIN_ANSWERED", default=20)
COMPLETION_MIN_SCORE_PERCENT = env.int("COMPLETION_MIN_SCORE_PERCENT", default=70)
DASHBOARD_CACHE_SECONDS = env.int("DASHBOARD_CACHE_SECONDS", default=45)
RECOMMENDATION_DISMISS_DAYS = env.int("RECOMMENDATION_DISMISS_DAYS", default=7)
# Suggested topics: "Low Score" needs at least N answers below X%; "Needs Review" when a category
# has not been practised for this many days.
RECOMMENDATION_LOW_SCORE_MIN_ANSWERED = env.int("RECOMMENDATION_LOW_SCORE_MIN_ANSWERED", default=10)
RECOMMENDATION_LOW_SCORE_PERCENT = env.int("RECOMMENDATION_LOW_SCORE_PERCENT", default=60)
RECOMMENDATION_REVIEW_AFTER_DAYS = env.int("RECOMMENDATION_REVIEW_AFTER_DAYS", default=14)
# Ranking by expected marks gained per hour (docs/recommendations.md): the model's assumptions.
RECOMMENDATION_QUESTIONS_PER_HOUR = env.int("RECOMMENDATION_QUESTIONS_PER_HOUR", default=30)
RECOMMENDATION_LEARNING_RATE = env.float("RECOMMENDATION_LEARNING_RATE", default=0.04)
RECOMMENDATION_SCORE_CEILING = env.float("RECOMMENDATION_SCORE_CEILING", default=0.95)
RECOMMENDATION_PRIOR_ANSWERS = env.int("RECOMMENDATION_PRIOR_ANSWERS", default=10)
# Stored recommendations are recomputed on read once the learner's latest answer is this much
# newer than them; the nightly job computes them for learners active in the last ACTIVE_DAYS.
RECOMMENDATION_STALE_SECONDS = env.int("RECOMMENDATION_STALE_SECONDS", default=600)
RECOMMENDATION_ACTIVE_DAYS = env.int("RECOMMENDATION_ACTIVE_DAYS", default=30)
RECOMMENDATION_BATCH = env.int("RECOMMENDATION_BATCH", default=500)
# Learning record: one answer counts at most this much study time (an idle tab is not study);
# a reading heartbeat credits at most this many seconds per call, never more than wall time.
ANALYTICS_ANSWER_TIME_CAP_SEC = env.int("ANALYTICS_ANSWER_TIME_CAP_SEC", default=600)
ANALYTICS_HEARTBEAT_MAX_SEC = env.int("ANALYTICS_HEARTBEAT_MAX_SEC", default=60)
FEATURED_RESOURCES_CACHE_SECONDS = env.int("FEATURED_RESOURCES_CACHE_SECONDS", default=300)
# Notifications: a candidate inactive this many days gets one study reminder per spell; read
# notifications older than the prune age are deleted; broadcasts fan out in batches (an optional
# pause between batches spreads the database load of a very large fan-out).
REMINDER_INACTIVE_DAYS = env.int("REMINDER_INACTIVE_DAYS", default=3)
NOTIFICATIONS_PRUNE_READ_AFTER_DAYS = env.int("NOTIFICATIONS_PRUNE_READ_AFTER_DAYS", default=90)
NOTIFICATIONS_FANOUT_BATCH_SIZE = env.int("NOTIFICATIONS_FANOUT_BATCH_SIZE", default=1000)
NOTIFICATIONS_FANOUT_BATCH_PAUSE_SECONDS = env.float(
    "NOTIFICATIONS_FANOUT_BATCH_PAUSE_SECONDS", default=0.0
)
# Seconds after an exam's deadline during which answers still in flight are accepted.
EXAM_GRACE_SECONDS = env.int("EXAM_GRACE_SECONDS", default=5)

# --- Billing (off by default: everyone has every entitlement; apps/billing) --------------------
# Stripe's price ids live on the plans (admin). A past_due subscription keeps its entitlements for
# the grace period while Stripe retries the payment; so does an active one whose renewal we have
# not heard of yet (a webhook delayed past the period's end).
BILLING_ENABLED = env.bool("BILLING_ENABLED", default=False)
STRIPE_SECRET_KEY = env("STRIPE_SECRET_KEY", default="")
STRIPE_WEBHOOK_SECRET = env("STRIPE_WEBHOOK_SECRET", default="")
STRIPE_API_BASE = env("STRIPE_API_BASE", default="")  # e.g. stripe-mock in development
BILLING_GRACE_DAYS = env.int("BILLING_GRACE_DAYS", default=7)
# Feature flags (django-waffle): an unknown flag is off and is not created by being asked about.
WAFFLE_FLAG_DEFAULT = False
WAFFLE_CREATE_MISSING_FLAGS = False

# --- Security headers (production tightens further) --------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
# Django sessions serve only the admin: a staff sign-in lasts a working day at most.
SESSION_COOKIE_AGE = env.int("ADMIN_SESSION_SECONDS", default=8 * 3600)

# --- Logging: structured JSON with the request id ---------------------------------------------
LOG_LEVEL = env("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_context": {"()": "apps.core.logging.RequestContextFilter"},
        "client_fault": {"()": "apps.core.logging.ClientFaultFilter"},
        "task_context": {"()": "apps.core.logging.TaskContextFilter"},
        "runserver_access": {"()": "apps.core.logging.RunserverAccessFilter"},
        "once_a_minute": {"()": "apps.core.logging.shared_repeat_filter", "interval": 60.0},
    },
    "formatters": {"json": {"()": "apps.core.logging.JsonFormatter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            "filters": ["request_context", "task_context"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # One handler for every line. Django's defaults (applied before these) give "django" a
        # plain console handler of its own in DEBUG, so each of its records came out twice
        # under `make run`, plain and JSON, and "django.server" a handler without propagation.
        # Naming a logger here removes the handlers it had, so both reach only the JSON one.
        # (Django's mail_admins handler goes with them: errors go to Sentry.)
        "django": {"handlers": [], "level": "INFO", "propagate": True},
        "django.request": {"level": "ERROR"},
        "django.server": {
            "handlers": [],
            "level": "INFO",
            "propagate": True,
            "filters": ["runserver_access"],
        },
        "celery": {"level": "INFO"},
        # The cache's ignored exceptions (Redis down: several per request, each with its
        # traceback): the first, then one a minute per process with how many were held back.
        "apps.core.cache": {"filters": ["once_a_minute"]},
        # A request Django refuses as suspicious is the client's fault: logged as a warning.
        **{
            f"django.security.{name}": {"filters": ["client_fault"]}
            for name in (
                "DisallowedHost",
                "DisallowedRedirect",
                "SuspiciousOperation",
                "SuspiciousFileOperation",
                "SuspiciousMultipartForm",
                "SuspiciousSession",
                "RequestDataTooBig",
                "TooManyFieldsSent",
                "TooManyFilesSent",
                "csrf",
            )
        },
    },
}

# --- Item quality (docs/item-analysis.md) ----------------------------------------------------
# Flags on a question version's statistics (Moodle's quiz statistics guidance), each raised only
# once that many candidates' first attempts back it (discrimination and mis-key: candidates with
# a rest score, i.e. at least one other first attempt).
QUALITY_TOO_HARD_BELOW = env.float("QUALITY_TOO_HARD_BELOW", default=0.2)
QUALITY_TOO_EASY_ABOVE = env.float("QUALITY_TOO_EASY_ABOVE", default=0.9)
QUALITY_LOW_DISCRIMINATION_BELOW = env.float("QUALITY_LOW_DISCRIMINATION_BELOW", default=0.2)
QUALITY_MIN_N_FACILITY = env.int("QUALITY_MIN_N_FACILITY", default=30)
QUALITY_MIN_N_DISCRIMINATION = env.int("QUALITY_MIN_N_DISCRIMINATION", default=50)
QUALITY_MIN_N_MISKEY = env.int("QUALITY_MIN_N_MISKEY", default=50)
# Questions analysed per batch (one bounded set of queries each).
QUALITY_ANALYSIS_BATCH = env.int("QUALITY_ANALYSIS_BATCH", default=200)

# --- Readiness (docs/readiness.md) -----------------------------------------------------------
# A prediction needs this many first attempts, and this many in every category of the papers'
# blueprints that the bank has questions in; below that the API says what is still needed.
READINESS_MIN_ANSWERS = env.int("READINESS_MIN_ANSWERS", default=60)
READINESS_MIN_PER_CATEGORY = env.int("READINESS_MIN_PER_CATEGORY", default=1)
# Percentiles only among at least this many candidates sitting in the same month.
READINESS_MIN_COHORT = env.int("READINESS_MIN_COHORT", default=30)
# Exam answers are recorded at submission with the time they were saved (up to a sitting's length
# earlier): a learner's new facts are read from this long before the newest one already counted.
READINESS_LATE_FACT_HOURS = env.int("READINESS_LATE_FACT_HOURS", default=12)
# How long a process keeps the compiled model (bank curves, standards) before re-reading them.
READINESS_MODEL_TTL_SECONDS = env.int("READINESS_MODEL_TTL_SECONDS", default=60)

# --- Observability (docs/observability.md) ---------------------------------------------------
# GET /metrics answers only these addresses or CIDR ranges, or a bearer METRICS_TOKEN if set.
METRICS_ALLOWED_IPS = env.list("METRICS_ALLOWED_IPS", default=["127.0.0.1", "::1"])
METRICS_TOKEN = env("METRICS_TOKEN", default="")
# Statements slower than this many milliseconds are logged (development; unset = off).
SLOW_QUERY_MS = env.int("SLOW_QUERY_MS", default=None)
# Sentry only when a DSN is configured; tracing (OpenTelemetry) is set up in wsgi/asgi/Celery.
SENTRY_DSN = env("SENTRY_DSN", default="")
configure_sentry(
    dsn=SENTRY_DSN,
    release=RELEASE,
    environment=ENVIRONMENT,
    traces_sample_rate=env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0),
)

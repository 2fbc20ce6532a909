"""Settings shared by every environment. Deploy-time values come from the environment."""
from pathlib import Path

import environ
from celery.schedules import crontab
from kombu import Queue

BASE_DIR = Path(__file__).resolve().parents[2]
env = environ.Env()
env.read_env(BASE_DIR / ".env", overwrite=False) if (BASE_DIR / ".env").exists() else None

# Runtime state of the embedded default (SQLite file, broker folders, uploads).
VAR_DIR = Path(env("JIXIAO_VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env.bool("DJANGO_DEBUG", default=False)
SECRET_KEY = env("DJANGO_SECRET_KEY", default="insecure-local-only-key")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_tables2",
    "django_filters",
    "simple_history",
    "axes",
    "budgets",
    "kpi",
    # Before rest_framework: its catalog (kpi/api/locale) keeps Django's wording of the messages DRF translates
    # too ("这个字段是必填项。"), on the pages and in the API alike (an app listed first wins).
    "kpi.api",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI's own files, served from the package (no CDN: works offline)
]

MIDDLEWARE = [
    "config.logging.RequestLogMiddleware",  # first: it times the whole request, every other middleware included
    # Early: a body past the upload limit is answered 413 from its Content-Length, before anything reads it.
    "config.middleware.RequestSizeLimitMiddleware",
    # A form's files that cannot be spooled to disk (full, read-only) get a Chinese 503, not a 500.
    "config.middleware.UploadSpoolFaultMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Content-Security-Policy with a per-request nonce for inline scripts, and Permissions-Policy.
    "config.middleware.SecurityHeadersMiddleware",
    # Static files straight from the web process (compressed, hashed names in production).
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last, as django-axes requires: locks out repeated failed logins.
    "axes.middleware.AxesMiddleware",
    # After every other view middleware: runs the view of a write request in one transaction.
    "config.middleware.AtomicWritesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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
                "kpi.context_processors.navigation",
            ],
        },
    },
]

# SQLite file by default; DATABASE_URL=postgres://… switches to PostgreSQL.
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
# Not ATOMIC_REQUESTS: write requests get their transaction from config.middleware.AtomicWritesMiddleware,
# reads run without one (on SQLite a request-wide transaction takes the write lock, reads included).
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web, worker and beat share the file: wait for locks instead of failing.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 30, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"}
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# django-axes: after 5 failed logins for one user name from one address, 15 minutes of lock-out.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_FAILURE_LIMIT = env.int("JIXIAO_LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = 0.25  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# The client's address as config.auth.client_ip reads it: JIXIAO_PROXY_COUNT trusted reverse proxies in front
# (production: 1), the right-most X-Forwarded-For entries they added; 0 here: the connection's own address.
AXES_CLIENT_IP_CALLABLE = "config.auth.client_ip"
JIXIAO_PROXY_COUNT = env.int("JIXIAO_PROXY_COUNT", default=0)
# Password spraying: this many failed logins from one address, across any user names, within the cool-off
# above, and the login page refuses that address (429) until they age out (config.auth.LoginView). Well
# above AXES_FAILURE_LIMIT: an office behind one NAT address is not locked out by a few typos.
JIXIAO_LOGIN_IP_FAILURE_LIMIT = env.int("JIXIAO_LOGIN_IP_FAILURE_LIMIT", default=20)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "zh-hans"
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env("JIXIAO_STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
# Development serves static files from the apps' folders as they change; production from STATIC_ROOT.
WHITENOISE_USE_FINDERS = WHITENOISE_AUTOREFRESH = DEBUG
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = VAR_DIR / "media"
MEDIA_URL = "media/"

DJANGO_TABLES2_TEMPLATE = "django_tables2/bootstrap5.html"

# --- the JSON API (/api/v1/, kpi.api) ----------------------------------------------------------------
# Personal access tokens (Authorization: Bearer …) first, so that a request without credentials is told
# 401 with WWW-Authenticate: Bearer; the browser's session too. Throttled per token (per user on a session):
# reads and writes counted apart, rates from the environment ("600/minute", "5000/hour", …).
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "kpi.api.auth.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["kpi.api.auth.TokenAccess"],
    "DEFAULT_THROTTLE_CLASSES": ["kpi.api.auth.ReadThrottle", "kpi.api.auth.WriteThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "api_read": env("JIXIAO_API_READ_RATE", default="600/minute"),
        "api_write": env("JIXIAO_API_WRITE_RATE", default="120/minute"),
    },
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "kpi.api.errors.exception_handler",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Jixiao 绩效目标管理 API",
    "DESCRIPTION": (
        "与页面相同的规则与权限：单位、绩效目标表、填报（实际完成值）、提交与审核、预算执行、绩效自评。"
        "认证：`Authorization: Bearer <个人访问令牌>`（在“个人访问令牌”页面创建），或浏览器的登录会话。"
        "金额、分值等小数均以字符串表示，日期为 ISO 8601；错误为 `{\"detail\": 说明, \"errors\": {字段: [说明]}}`。"
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # No call to validator.swagger.io for its badge: nothing leaves the site.
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
}

# --- Celery -----------------------------------------------------------------
# Embedded default: kombu's filesystem transport (no server). CELERY_BROKER_URL=redis://… scales out.
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="filesystem://")


def filesystem_broker_options(folder: Path) -> dict:
    """Transport options of kombu's filesystem broker: producers and workers share one folder."""
    for sub in ("queue", "processed", "control"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    return {
        "data_folder_in": str(folder / "queue"),
        "data_folder_out": str(folder / "queue"),
        "processed_folder": str(folder / "processed"),
        "store_processed": False,
        "control_folder": str(folder / "control"),
        # How often an idle worker looks for a message (kombu's default is 1 s): a saved value is scored
        # within a fraction of a second, for a directory listing five times a second.
        "polling_interval": 0.2,
    }


if CELERY_BROKER_URL.startswith("filesystem"):
    CELERY_BROKER_TRANSPORT_OPTIONS = filesystem_broker_options(VAR_DIR / "broker")

# A cache the web process and the workers share: progress of work still inside its transaction (an
# import is one transaction, so its rows are invisible until it commits). Redis when the broker is Redis.
if CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CELERY_BROKER_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
                          "LOCATION": str(VAR_DIR / "cache")}}

# E-mail (reminders). The backend and server are set per environment (local: console, production: SMTP).
DEFAULT_FROM_EMAIL = env("DJANGO_DEFAULT_FROM_EMAIL", default="Jixiao 绩效系统 <noreply@localhost>")
# Last month's monitoring figures are due by this day; the leads and administrators are reminded on it.
JIXIAO_REMINDER_DAY = env.int("JIXIAO_REMINDER_DAY", default=5)
# Prefixed to the links in e-mails (e.g. https://jixiao.example.org); empty leaves bare paths.
JIXIAO_SITE_URL = env("JIXIAO_SITE_URL", default="")
# Processes that render a 自评 bundle's documents (kpi/selfeval/batch.py); 0: one per core.
JIXIAO_BUNDLE_PROCESSES = env.int("JIXIAO_BUNDLE_PROCESSES", default=0)

# load_demo creates demo accounts with a published password: never on a production site.
JIXIAO_ALLOW_DEMO_DATA = True

# Uploads (goal-table files, evidence) are refused above this size.
UPLOAD_MAX_BYTES = 20 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = UPLOAD_MAX_BYTES + 1024 * 1024
# Files over 2.5 MB go to a temporary file; the first handler stops any upload past the request ceiling
# (config.middleware.RequestSizeLimitMiddleware answers 413 before that when Content-Length says so).
FILE_UPLOAD_MAX_MEMORY_SIZE = 2621440
FILE_UPLOAD_HANDLERS = [
    "config.middleware.LimitedUploadHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]
# Results are never fetched (tasks record their progress in the database).
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_TIME_LIMIT = 30 * 60
CELERY_TASK_SOFT_TIME_LIMIT = 25 * 60
CELERY_TASK_ACKS_LATE = True
# A message whose worker process died is given back to the queue at once, not lost with it.
CELERY_TASK_REJECT_ON_WORKER_LOST = True
# What the sweep calls lost (kpi.rescoring.services.stalled_jobs_resume): a bulk job still 排队中 this long
# after it was queued (its start message never arrived), a running one with no batch finished for this long
# (its worker was killed: a batch of JIXIAO_RESCORE_BATCH_SIZE tables takes seconds, far below the task time
# limit). Unfinished batches are then sent again, at most once per this interval; running one twice is safe.
JIXIAO_RESCORE_UNSTARTED_SECONDS = env.int("JIXIAO_RESCORE_UNSTARTED_SECONDS", default=2 * 60)
JIXIAO_RESCORE_STALLED_SECONDS = env.int("JIXIAO_RESCORE_STALLED_SECONDS", default=5 * 60)
# Tables per batch. Measured (bench_scoring --indicators 150000 --per-table 15 --workers 2, PostgreSQL, 2 cores):
# 200 → 8.8–9.8 s, 300 → 8.6, 400 → 7.9, 500 → 7.5–7.8, 1000 → 8.8 s for the 10,000 tables; a batch of 500 holds
# its tables' locks about 0.7 s, which an interactive rescore of one of them may wait for.
JIXIAO_RESCORE_BATCH_SIZE = env.int("JIXIAO_RESCORE_BATCH_SIZE", default=500)
if CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    # An unacknowledged message (its whole worker killed) is delivered again after this: longer than the
    # longest task may run, so that a running task is never started twice.
    # Queues are read in the order a worker lists them (-Q interactive,celery): interactive first, always.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_TASK_TIME_LIMIT + 5 * 60,
                                       "queue_order_strategy": "priority"}
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Interactive first: the rescore after a save or an approval has its own queue, which the bulk batches of a
# year's rescore (and imports, bundles) on the default queue never stand in front of. A worker started
# without -Q reads both; ./dev, compose.yaml and deploy/ name them explicitly (CELERY_WORKER_QUEUES).
CELERY_TASK_DEFAULT_QUEUE = "celery"
CELERY_TASK_QUEUES = (Queue("interactive"), Queue("celery"))
CELERY_TASK_ROUTES = {"kpi.tasks.rescore_table": {"queue": "interactive"}}
CELERY_WORKER_QUEUES = "interactive,celery"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_ALWAYS_EAGER = False
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE = {
    # Every minute: rescore the goal tables a lost message or a stopped worker left stale ("评分更新中").
    "rescore-stale-sweep": {
        "task": "kpi.tasks.rescore_stale_sweep",
        "schedule": env.float("JIXIAO_SWEEP_SECONDS", default=60.0),
    },
    # Every hour: delete the 监控表 export files whose links have expired.
    "monitoring-exports-prune": {
        "task": "kpi.tasks.monitoring_exports_prune",
        "schedule": crontab(minute=17),
    },
    # Every night at 02:30 (Asia/Shanghai): rescore every goal table so scores follow policy edits.
    "rescore-all-nightly": {
        "task": "kpi.tasks.rescore_all_nightly",
        "schedule": crontab(hour=2, minute=30),
    },
    # Every morning at 08:00 (Asia/Shanghai); the task acts only on JIXIAO_REMINDER_DAY of the month.
    "send-reminders": {
        "task": "kpi.tasks.send_reminders",
        "schedule": crontab(hour=8, minute=0),
    },
}

# Logs: one JSON line per record (config/logging.py) when JIXIAO_LOG_JSON is set — production sets it —,
# plain text otherwise; a line per request and per task, errors with their traceback.
LOG_JSON = env.bool("JIXIAO_LOG_JSON", default=False)
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {"()": "config.logging.JsonFormatter"},
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "json" if LOG_JSON else "plain"}},
    "root": {"handlers": ["console"], "level": env("DJANGO_LOG_LEVEL", default="INFO")},
    "loggers": {
        # The request log below replaces Django's own lines for 4xx (kept: 5xx with their traceback).
        "django.request": {"level": "ERROR"},
        "django.server": {"level": "WARNING"},
    },
}

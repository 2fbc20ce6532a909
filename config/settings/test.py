"""Test run: fast hashing, on-disk SQLite test database (so a real worker process can share it)."""
from .base import *
from .base import CACHES, CELERY_BROKER_URL, DATABASES, VAR_DIR, filesystem_broker_options

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test-db.sqlite3")}
if CELERY_BROKER_URL.startswith("filesystem"):
    # Tests never feed the developer's running worker.
    CELERY_BROKER_TRANSPORT_OPTIONS = filesystem_broker_options(VAR_DIR / "test-broker")
if CACHES["default"]["BACKEND"].endswith("FileBasedCache"):
    CACHES["default"]["LOCATION"] = str(VAR_DIR / "test-cache")
# Bundles render in this process (tests spy on the rendering); tests/kpi/selfeval/test_batch.py forks.
JIXIAO_BUNDLE_PROCESSES = env.int("JIXIAO_BUNDLE_PROCESSES", default=1)

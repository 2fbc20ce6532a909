"""Developer machine: DEBUG on, embedded SQLite and broker unless the environment says otherwise."""
from .base import *
from .base import env

DEBUG = env.bool("DJANGO_DEBUG", default=True)
EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
# The address the links in e-mails (the reminders) point to: this machine's dev server unless .env says otherwise.
JIXIAO_SITE_URL = env("JIXIAO_SITE_URL", default="http://127.0.0.1:8000")

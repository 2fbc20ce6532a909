"""Developer machine: DEBUG on, embedded SQLite and broker unless the environment says otherwise."""
from .base import *
from .base import env

DEBUG = env.bool("DJANGO_DEBUG", default=True)
EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"

"""gunicorn settings (`gunicorn -c config/gunicorn.py config.wsgi`), every value from the environment."""
import multiprocessing
import os

bind = os.environ.get("JIXIAO_BIND", "0.0.0.0:8000")
# One worker per core plus one, each serving one request at a time (threads = 1: gunicorn's sync worker, which
# wants the buffering reverse proxy production has in front). The pages are CPU in Python: more workers or
# threads than cores only queue requests inside a worker instead of in the kernel's fair accept queue.
# Measured on 2 cores, 20 users on the unit scorecard of 1,000 projects (issue 12), requests/s and p95:
# SQLite 3 x 1 34.0 / 0.74 s and 26.7 / 0.83 s, 4 x 1 32.5 / 0.81 s, 3 x 2 30.6 / 1.4 s, 5 x 2 30.9 / 2.1 s and
# 24.1 / 2.6 s; PostgreSQL 3 x 1 28.5 / 0.81 s, 4 x 1 27.5 / 0.89 s, 5 x 1 20.4 / 1.1 s, 5 x 2 23.0 / 2.5 s.
workers = int(os.environ.get("JIXIAO_WEB_WORKERS", multiprocessing.cpu_count() + 1))
threads = int(os.environ.get("JIXIAO_WEB_THREADS", 1))
timeout = int(os.environ.get("JIXIAO_WEB_TIMEOUT", 60))
graceful_timeout = 30
max_requests = 2000  # recycle workers now and then (a leak can never grow without bound)
max_requests_jitter = 200
forwarded_allow_ips = os.environ.get("JIXIAO_FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = None  # config.logging.RequestLogMiddleware writes one structured line per request
errorlog = "-"
loglevel = os.environ.get("JIXIAO_WEB_LOGLEVEL", "info")

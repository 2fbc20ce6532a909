"""The processes a benchmark starts against its throwaway database: gunicorn on the production settings and
a real Celery worker, on a broker of their own.

The broker is the configured one, but private to the run, so that a worker of the site running beside the
benchmark (`./dev up`) never takes its messages to the wrong database, and no message of the site is taken
by the benchmark's worker: the filesystem broker gets folders in the run's own folder, Redis another of its
numbered databases (purged before and after). Every process is started in a session of its own and stopped
by its id: terminated, then killed with its children when it does not stop.
"""
from __future__ import annotations

import contextlib
import hashlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings

REPO = Path(settings.BASE_DIR)
PRIVATE_REDIS_DATABASE = 15  # (14 when the site itself uses 15)
START_TIMEOUT = 90  # seconds for gunicorn or the worker to come up
STOP_TIMEOUT = 20


class StartError(RuntimeError):
    """A process did not come up; the message ends with the tail of its log."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def worker_queues() -> str | None:
    """The queues a worker listens on (`-Q`), when the settings name them (CELERY_WORKER_QUEUES)."""
    queues = getattr(settings, "CELERY_WORKER_QUEUES", None)
    if isinstance(queues, (list, tuple)):
        queues = ",".join(queues)
    return queues or None


def _queue_names(app) -> list[str]:
    return [q.strip() for q in (worker_queues() or app.conf.task_default_queue).split(",") if q.strip()]


def _private_redis_url(url: str) -> str:
    parts = urlsplit(url)
    current = parts.path.strip("/") or "0"
    number = PRIVATE_REDIS_DATABASE if current != str(PRIVATE_REDIS_DATABASE) else PRIVATE_REDIS_DATABASE - 1
    return urlunsplit(parts._replace(path=f"/{number}"))


def _reset_connections(app) -> None:
    """Forget the app's broker connections, so the next message opens one with the current configuration."""
    if app._pool is not None:
        app._pool.force_close_all()
    app._pool = None
    if "amqp" in app.__dict__:
        app.amqp._producer_pool = None


def _purge(app, queues: list[str]) -> None:
    with app.connection_for_write() as conn:
        channel = conn.default_channel
        for queue in queues:
            with contextlib.suppress(Exception):  # a queue never declared has nothing to purge
                channel.queue_purge(queue)


@contextlib.contextmanager
def private_broker(folder: Path):
    """Point this process's Celery app at a broker private to the run; yields the environment a started
    process needs to use the same (CELERY_BROKER_URL, and JIXIAO_VAR_DIR for the filesystem broker)."""
    from config.celery_app import app
    from config.settings.base import filesystem_broker_options

    url = settings.CELERY_BROKER_URL
    saved = (app.conf.broker_url, app.conf.broker_transport_options)
    env = {"CELERY_BROKER_URL": url}
    redis = url.startswith(("redis://", "rediss://"))
    if url.startswith("filesystem"):
        # The started processes compute their folders from their JIXIAO_VAR_DIR, as this one did from its own.
        own = Path(settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_in"]).parent
        relative = own.relative_to(Path(settings.VAR_DIR))
        app.conf.broker_transport_options = filesystem_broker_options(folder / relative)
        env["JIXIAO_VAR_DIR"] = str(folder)
    elif redis:
        env["CELERY_BROKER_URL"] = app.conf.broker_url = _private_redis_url(url)
    # Celery reads CELERY_BROKER_URL from the environment before its configuration: point both at the broker.
    saved_env = os.environ.get("CELERY_BROKER_URL")
    if saved_env is not None:
        os.environ["CELERY_BROKER_URL"] = env["CELERY_BROKER_URL"]
    _reset_connections(app)
    try:
        if redis:
            _purge(app, _queue_names(app))
        yield env
    finally:
        try:
            if redis:
                _purge(app, _queue_names(app))
        finally:
            app.conf.broker_url, app.conf.broker_transport_options = saved
            if saved_env is not None:
                os.environ["CELERY_BROKER_URL"] = saved_env
            _reset_connections(app)


def _stop(process: subprocess.Popen) -> None:
    """Terminate a process we started (its warm shutdown), then kill it and its children if it lingers."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)  # its own session: the group is ours alone
        process.wait(timeout=STOP_TIMEOUT)


def _tail(log: Path, size: int = 3000) -> str:
    try:
        return log.read_text(errors="replace")[-size:]
    except FileNotFoundError:
        return ""


def _start(command: list[str], env: dict, log: Path) -> subprocess.Popen:
    with open(log, "w") as out:
        return subprocess.Popen(command, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)


# --- static files for the production settings ------------------------------------------------------

def _static_fingerprint() -> str:
    """What collectstatic would collect: every found file's path, size and time."""
    from django.contrib.staticfiles import finders

    digest = hashlib.sha256()
    for finder in finders.get_finders():
        for path, storage in sorted(finder.list([]), key=lambda found: found[0]):
            stat = os.stat(storage.path(path))
            digest.update(f"{path}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def collected_static(env: dict, say) -> Path:
    """STATIC_ROOT for the production settings (hashed, compressed: collectstatic), kept in VAR_DIR and
    collected again only when the static files changed."""
    root = Path(settings.VAR_DIR) / "bench-static"
    stamp = root / ".bench-fingerprint"
    fingerprint = _static_fingerprint()
    if stamp.is_file() and stamp.read_text() == fingerprint and (root / "staticfiles.json").is_file():
        return root
    say("收集静态文件（生产设置，约 10 秒）…")
    subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput", "--verbosity", "0"], cwd=REPO,
                   env={**env, "JIXIAO_STATIC_ROOT": str(root)}, check=True, timeout=600,
                   stdout=subprocess.DEVNULL)
    stamp.write_text(fingerprint)
    return root


# --- gunicorn ------------------------------------------------------------------------------------

def production_env(*, database_url: str, broker_env: dict, secret_key: str) -> dict:
    """The environment config.settings.production needs, pointed at the throwaway database."""
    return {
        **os.environ,
        **broker_env,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": secret_key,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DATABASE_URL": database_url,
    }


def https_get(url: str, *, timeout: float = 5, headers: dict | None = None) -> tuple[int, bytes]:
    """A GET as the production site sees it behind its proxy (X-Forwarded-Proto: https)."""
    request = urllib.request.Request(url, headers={"X-Forwarded-Proto": "https", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


@contextlib.contextmanager
def gunicorn_server(*, env: dict, static_root: Path, folder: Path, say):
    """gunicorn with config/gunicorn.py on a free port; yields its port once /healthz answers 200."""
    port = free_port()
    log = folder / "gunicorn.log"
    process = _start([sys.executable, "-m", "gunicorn", "-c", "config/gunicorn.py", "config.wsgi:application"],
                     {**env, "JIXIAO_STATIC_ROOT": str(static_root), "JIXIAO_BIND": f"127.0.0.1:{port}"}, log)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if process.poll() is not None:
                raise StartError(f"gunicorn 启动失败：\n{_tail(log)}")
            with contextlib.suppress(OSError):
                if https_get(f"http://127.0.0.1:{port}/healthz", timeout=2)[0] == 200:
                    break
            if time.monotonic() > deadline:
                raise StartError(f"gunicorn 在 {START_TIMEOUT} 秒内未就绪（/healthz）：\n{_tail(log)}")
            time.sleep(0.2)
        say(f"gunicorn 已启动：127.0.0.1:{port}")
        yield port
    finally:
        _stop(process)


# --- the Celery worker ---------------------------------------------------------------------------------

@contextlib.contextmanager
def celery_worker(*, database_url: str, broker_env: dict, folder: Path, concurrency: int, say):
    """A real `celery worker` process (as tests/kpi/test_worker_e2e.py starts it) on the private broker,
    pointed at the throwaway database, listening on CELERY_WORKER_QUEUES when set; yields once it is ready."""
    env = {
        **os.environ,
        **broker_env,
        "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE", "config.settings.local"),
        "DJANGO_DEBUG": "false",  # local settings would keep every query of every task in memory
        "DATABASE_URL": database_url,
    }
    command = [sys.executable, "-m", "celery", "-A", "config", "worker", "--loglevel=INFO",
               "--pool=prefork", f"--concurrency={concurrency}", "--without-mingle", "--without-gossip",
               "--without-heartbeat", "-n", f"bench-{os.getpid()}@%h"]
    queues = worker_queues()
    if queues:
        command += ["-Q", queues]
    log = folder / "worker.log"
    process = _start(command, env, log)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while " ready." not in _tail(log, 20000):
            if process.poll() is not None:
                raise StartError(f"Celery worker 启动失败：\n{_tail(log)}")
            if time.monotonic() > deadline:
                raise StartError(f"Celery worker 在 {START_TIMEOUT} 秒内未就绪：\n{_tail(log)}")
            time.sleep(0.2)
        say(f"Celery worker 已启动（{concurrency} 个进程{'，队列 ' + queues if queues else ''}）")
        yield process
    finally:
        _stop(process)

"""The production setup, started for real: gunicorn on config.settings.production, static files from
whitenoise (hashed, compressed), the health endpoint answering for the database and the broker."""
import gzip
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings

from tests.kpi.test_worker_e2e import test_database_url

REPO = Path(__file__).resolve().parents[1]
pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url: str, headers: dict | None = None):
    request = urllib.request.Request(url, headers={"X-Forwarded-Proto": "https", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


@pytest.fixture
def production_server(tmp_path):
    port = free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": "a-long-and-random-test-secret-" + "x" * 40,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DATABASE_URL": test_database_url(),
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "JIXIAO_STATIC_ROOT": str(tmp_path / "static"),
        "JIXIAO_BIND": f"127.0.0.1:{port}",
        "JIXIAO_WEB_WORKERS": "2",
    }
    if settings.CELERY_BROKER_URL.startswith("filesystem"):
        env["JIXIAO_VAR_DIR"] = str(Path(settings.VAR_DIR))
    subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput", "--verbosity", "0"], cwd=REPO,
                   env=env, check=True, timeout=120)
    log = tmp_path / "gunicorn.log"
    with open(log, "w") as out:
        process = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "config/gunicorn.py", "config.wsgi:application"],
                                   cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            assert process.poll() is None, log.read_text()[-3000:]
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.2)
        yield base, tmp_path / "static"
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        print(log.read_text()[-3000:])


def test_gunicorn_answers_the_health_endpoint_and_serves_hashed_compressed_static_files(production_server):
    base, static_root = production_server
    status, headers, body = get(f"{base}/healthz")
    assert status == 200, body
    assert json.loads(body) == {"status": "ok", "database": "ok", "broker": "ok"}
    assert "no-cache" in headers.get("Cache-Control", "") or "no-store" in headers.get("Cache-Control", "")

    manifest = json.loads((static_root / "staticfiles.json").read_text())["paths"]
    hashed = manifest["css/jixiao.css"]
    assert hashed != "css/jixiao.css"  # a hashed name, cached for ever
    status, headers, body = get(f"{base}/static/{hashed}", {"Accept-Encoding": "gzip"})
    assert status == 200 and headers["Content-Type"].startswith("text/css")
    assert headers.get("Content-Encoding") == "gzip" and b".topbar" in gzip.decompress(body)
    assert "max-age" in headers.get("Cache-Control", "")

    status, headers, body = get(f"{base}/accounts/login/")
    assert status == 200 and "登录" in body.decode() or "用户名" in body.decode()
    assert headers.get("X-Frame-Options") == "DENY" and "Strict-Transport-Security" in headers


def test_the_health_endpoint_says_what_is_down(client, monkeypatch):
    from config import health

    assert client.get("/healthz").json() == {"status": "ok", "database": "ok", "broker": "ok"}
    monkeypatch.setattr(health, "_broker", lambda: "error: OperationalError")
    response = client.get("/healthz")
    assert response.status_code == 503 and response.json()["broker"] == "error: OperationalError"

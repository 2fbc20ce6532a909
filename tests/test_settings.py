"""Settings come from the environment: embedded default, scale-out URLs, strict production."""
import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PROBE = (
    "import json, django; from django.conf import settings; django.setup(); "
    "print(json.dumps({'engine': settings.DATABASES['default']['ENGINE'], "
    "'name': str(settings.DATABASES['default']['NAME']), 'broker': settings.CELERY_BROKER_URL, "
    "'options': getattr(settings, 'CELERY_BROKER_TRANSPORT_OPTIONS', None), 'tz': settings.TIME_ZONE, "
    "'lang': settings.LANGUAGE_CODE}))"
)


def probe(module, tmp_path, **env):
    clean = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CELERY_BROKER_URL", "DJANGO_SECRET_KEY")}
    clean.update({"DJANGO_SETTINGS_MODULE": module, "JIXIAO_VAR_DIR": str(tmp_path), **env})
    return subprocess.run([sys.executable, "-c", PROBE], cwd=REPO, env=clean, capture_output=True, text=True)


def test_embedded_default_needs_no_server(tmp_path):
    done = probe("config.settings.local", tmp_path)
    settings = json.loads(done.stdout)
    assert settings["engine"] == "django.db.backends.sqlite3"
    assert settings["name"] == str(tmp_path / "db.sqlite3")
    assert settings["broker"] == "filesystem://"
    assert Path(settings["options"]["data_folder_in"]).is_dir()
    assert (settings["tz"], settings["lang"]) == ("Asia/Shanghai", "zh-hans")


def test_urls_switch_to_postgresql_and_redis(tmp_path):
    done = probe("config.settings.local", tmp_path, DATABASE_URL="postgres://u:p@db.internal:5432/jixiao",
                 CELERY_BROKER_URL="redis://cache.internal:6379/0")
    settings = json.loads(done.stdout)
    assert settings["engine"] == "django.db.backends.postgresql"
    assert settings["name"] == "jixiao"
    assert settings["broker"] == "redis://cache.internal:6379/0"
    # no filesystem folders; a visibility timeout beyond the longest task (a killed worker's message comes back);
    # the queues read in the order the worker names them (interactive first)
    assert settings["options"] == {"visibility_timeout": 35 * 60, "queue_order_strategy": "priority"}


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    done = probe("config.settings.production", tmp_path, DJANGO_ALLOWED_HOSTS="jixiao.example.org")
    assert done.returncode != 0
    assert "DJANGO_SECRET_KEY" in done.stderr


def test_production_keeps_database_connections_between_requests(tmp_path):
    """A connection per request costs PostgreSQL a new server process: production keeps a thread's connection
    (checked before reuse), for JIXIAO_DB_CONN_MAX_AGE seconds."""
    code = ("import json, django; from django.conf import settings; django.setup(); db = settings.DATABASES['default']; "
            "print(json.dumps([db['CONN_MAX_AGE'], db['CONN_HEALTH_CHECKS']]))")
    env = {"DJANGO_SETTINGS_MODULE": "config.settings.production", "JIXIAO_VAR_DIR": str(tmp_path),
           "DJANGO_SECRET_KEY": "x" * 50, "DJANGO_ALLOWED_HOSTS": "jixiao.example.org",
           "DATABASE_URL": "postgres://u:p@db.internal:5432/jixiao"}
    for extra, expected in (({}, [60, True]), ({"JIXIAO_DB_CONN_MAX_AGE": "0"}, [0, True])):
        clean = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "JIXIAO_DB_CONN_MAX_AGE")}
        done = subprocess.run([sys.executable, "-c", code], cwd=REPO, env={**clean, **env, **extra},
                              capture_output=True, text=True)
        assert json.loads(done.stdout) == expected, done.stderr

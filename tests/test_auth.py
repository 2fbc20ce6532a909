"""Logging in (config/auth.py): lock-out per user name and client, the client's address behind the reverse
proxy, and the per-address brake on password spraying."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from tests.factories import UserFactory

REPO = Path(__file__).resolve().parents[1]
PASSWORD = "pw-for-tests-123"  # UserFactory's
PROXY = "10.0.0.2"  # the reverse proxy: every request reaches Django from it


def _login(client, username, password, **extra):
    return client.post(reverse("login"), {"username": username, "password": password}, **extra)


@pytest.mark.django_db
def test_failures_from_one_address_do_not_lock_the_user_out_from_another():
    UserFactory(username="wangfang")
    a, b = Client(REMOTE_ADDR="192.0.2.10"), Client(REMOTE_ADDR="192.0.2.20")
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        _login(a, "wangfang", f"wrong-{attempt}")
    assert _login(a, "wangfang", PASSWORD).status_code == 429  # locked from A
    assert _login(b, "wangfang", PASSWORD).status_code == 302  # still in from B
    assert "_auth_user_id" in b.session


@pytest.mark.django_db
def test_behind_the_proxy_the_address_the_proxy_added_counts_not_what_the_client_wrote(settings):
    settings.JIXIAO_PROXY_COUNT = 1  # production's default
    UserFactory(username="wangfang")
    attacker = Client(REMOTE_ADDR=PROXY)
    # Each request claims another address in its own X-Forwarded-For; the proxy appends the real one.
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        response = _login(attacker, "wangfang", f"wrong-{attempt}",
                          HTTP_X_FORWARDED_FOR=f"198.51.100.{attempt + 1}, 203.0.113.7")
    assert response.status_code == 429  # the fifth: one client, whatever it claimed
    assert _login(attacker, "wangfang", PASSWORD, HTTP_X_FORWARDED_FOR="198.51.100.99, 203.0.113.7").status_code == 429
    # wangfang herself, from her own address through the same proxy, still gets in.
    own = _login(Client(REMOTE_ADDR=PROXY), "wangfang", PASSWORD, HTTP_X_FORWARDED_FOR="203.0.113.8")
    assert own.status_code == 302


@pytest.mark.django_db
def test_without_a_proxy_x_forwarded_for_is_ignored(settings):
    settings.JIXIAO_PROXY_COUNT = 0  # development
    UserFactory(username="wangfang")
    client = Client(REMOTE_ADDR="192.0.2.10")
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        # A different claimed address on every try changes nothing: the connection's address counts.
        response = _login(client, "wangfang", f"wrong-{attempt}", HTTP_X_FORWARDED_FOR=f"198.51.100.{attempt}")
    assert response.status_code == 429


def _setting(module, name, tmp_path, **env):
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "JIXIAO_PROXY"))}
    clean.update({"DJANGO_SETTINGS_MODULE": module, "JIXIAO_VAR_DIR": str(tmp_path), "DJANGO_SECRET_KEY": "x" * 50,
                  "DJANGO_ALLOWED_HOSTS": "jixiao.example.org", **env})
    probe = f"import json, django; from django.conf import settings; django.setup(); print(json.dumps(settings.{name}))"
    done = subprocess.run([sys.executable, "-c", probe], cwd=REPO, env=clean, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_production_trusts_one_proxy_and_development_none(tmp_path):
    assert _setting("config.settings.production", "JIXIAO_PROXY_COUNT", tmp_path) == 1
    assert _setting("config.settings.production", "JIXIAO_PROXY_COUNT", tmp_path, JIXIAO_PROXY_COUNT="2") == 2
    assert _setting("config.settings.local", "JIXIAO_PROXY_COUNT", tmp_path) == 0
    assert _setting("config.settings.production", "AXES_CLIENT_IP_CALLABLE", tmp_path) == "config.auth.client_ip"


# --- password spraying --------------------------------------------------------------------------------

@pytest.mark.django_db
def test_spraying_many_user_names_from_one_address_is_throttled():
    limit = settings.JIXIAO_LOGIN_IP_FAILURE_LIMIT
    assert limit > settings.AXES_FAILURE_LIMIT  # an office behind one NAT address is not locked out by typos
    UserFactory(username="wangfang")
    sprayer = Client(REMOTE_ADDR="192.0.2.66")
    for n in range(limit):  # one try per user name: axes' per-user lock-out never fires
        response = _login(sprayer, f"user{n}", "Password123")
        assert response.status_code == 200, n
    throttled = _login(sprayer, "user-next", "Password123")
    assert throttled.status_code == 429
    page = throttled.content.decode()
    assert "登录尝试过于频繁，请 15 分钟后再试" in page
    # Even the right password from that address waits.
    assert _login(sprayer, "wangfang", PASSWORD).status_code == 429
    assert "_auth_user_id" not in sprayer.session
    # Another address is unaffected: a wrong password is just wrong, the right one logs in.
    clean = Client(REMOTE_ADDR="192.0.2.67")
    assert _login(clean, "user0", "Password123").status_code == 200
    assert _login(clean, "wangfang", PASSWORD).status_code == 302


@pytest.mark.django_db
def test_a_few_failures_from_a_shared_address_do_not_throttle_it():
    UserFactory(username="wangfang")
    office = Client(REMOTE_ADDR="192.0.2.80")
    for n in range(settings.JIXIAO_LOGIN_IP_FAILURE_LIMIT - 1):
        _login(office, f"colleague{n}", "typo")
    assert _login(office, "wangfang", PASSWORD).status_code == 302


@pytest.mark.django_db
def test_the_throttle_counts_the_address_the_proxy_added(settings):
    settings.JIXIAO_PROXY_COUNT = 1
    sprayer = Client(REMOTE_ADDR=PROXY)
    for n in range(settings.JIXIAO_LOGIN_IP_FAILURE_LIMIT):
        _login(sprayer, f"user{n}", "Password123", HTTP_X_FORWARDED_FOR=f"198.51.100.{n}, 203.0.113.9")
    assert _login(sprayer, "x", "y", HTTP_X_FORWARDED_FOR="198.51.100.200, 203.0.113.9").status_code == 429
    UserFactory(username="wangfang")
    assert _login(sprayer, "wangfang", PASSWORD, HTTP_X_FORWARDED_FOR="203.0.113.10").status_code == 302

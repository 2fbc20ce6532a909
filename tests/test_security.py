"""Security: login everywhere, CSRF, password rules, login lock-out, superuser-only admin, a clean
deploy check of the production settings, and no secret in the repository."""
import os
import re
import secrets
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from budgets.models import Role
from budgets.services import membership_grant
from tests.factories import UnitFactory, UserFactory

REPO = Path(__file__).resolve().parents[1]
# The only pages an anonymous visitor may open; /healthz (for load balancers) says "ok" or which part is
# down, nothing else (tests/test_production_server.py).
PUBLIC = {"login", "logout", "healthz"}
PASSWORD = "pw-for-tests-123"  # UserFactory's


# --- login required everywhere -----------------------------------------------------------------------

SAMPLE = {"int": "1", "str": "x", "slug": "x", "path": "x/y", "uuid": str(uuid.UUID(int=1)), "year": "2026"}


def _sample_path(route: str) -> str:
    def fill(match):
        converter = match.group(1) or "str"
        assert converter in SAMPLE, f"no sample value for the <{converter}:…> converter: add one to SAMPLE"
        return SAMPLE[converter]

    return re.sub(r"<(?:(\w+):)?\w+>", fill, route)


def site_urls(patterns=None, prefix=""):
    """(name, sample path) of every URL of the site, includes followed; the admin has its own login."""
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(entry, URLResolver):
            if entry.app_name == "admin":
                continue
            yield from site_urls(entry.url_patterns, prefix + _route(entry))
        elif isinstance(entry, URLPattern):
            yield entry.name, "/" + _sample_path(prefix + _route(entry))


def _route(entry) -> str:
    route = getattr(entry.pattern, "_route", None)
    assert route is not None, f"{entry.pattern!r} is a regex pattern: give this test a sample path for it"
    return route


def _refused(response) -> bool:
    if response.status_code == 302:
        return response["Location"].startswith(reverse("login"))
    if response.status_code == 401:  # the JSON API (/api/v1/) asks for its credentials instead of a login page
        return response.has_header("WWW-Authenticate")
    return response.status_code in (403, 405)


@pytest.mark.django_db
def test_every_page_but_login_and_logout_needs_a_login(client):
    urls = [(name, url) for name, url in site_urls() if name not in PUBLIC]
    assert len(urls) >= 8, urls  # the walk found the site
    open_to_anyone = []
    for name, url in urls:
        for method in (client.get, client.post):
            response = method(url)
            if not _refused(response):
                open_to_anyone.append(f"{method.__name__.upper()} {url} ({name}) → {response.status_code}")
    assert open_to_anyone == []


@pytest.mark.django_db
def test_the_anonymous_home_page_redirects_to_the_login_page_and_back(client):
    response = client.get("/projects/1/")
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next=/projects/1/"


# --- CSRF ---------------------------------------------------------------------------------------------

@pytest.fixture
def unit_admin():
    admin = UserFactory()
    membership_grant(user=admin, unit=UnitFactory(), role=Role.ADMIN)
    return admin


@pytest.mark.django_db
def test_a_form_post_without_the_csrf_token_is_refused(unit_admin):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(unit_admin)
    assert browser.get(reverse("importers:upload")).status_code == 200  # the page and its csrftoken cookie

    assert browser.post(reverse("importers:upload"), {"year": "2026"}).status_code == 403
    # The same post with the token gets through to the form (which wants a file).
    token = browser.cookies[settings.CSRF_COOKIE_NAME].value
    response = browser.post(reverse("importers:upload"), {"year": "2026", "csrfmiddlewaretoken": token})
    assert response.status_code == 200
    assert "file" in response.context["form"].errors


@pytest.mark.django_db
def test_the_login_form_needs_the_csrf_token_too():
    UserFactory(username="zhang")
    browser = Client(enforce_csrf_checks=True)
    response = browser.post(reverse("login"), {"username": "zhang", "password": PASSWORD})
    assert response.status_code == 403
    assert "_auth_user_id" not in browser.session


# --- passwords ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("weak", ["12345678", "password", "abc123", "qwertyuiop", "zhangwei2026"])
@pytest.mark.django_db
def test_weak_passwords_are_refused(weak):
    user = UserFactory.build(username="zhangwei2026", email="zhangwei@example.org")
    with pytest.raises(ValidationError):
        validate_password(weak, user=user)


@pytest.mark.django_db
def test_a_strong_password_is_accepted():
    validate_password("绩效-Monitor-2026-春", user=UserFactory.build(username="zhangwei"))


# --- login lock-out (django-axes) ---------------------------------------------------------------------

def _login(client, username, password):
    return client.post(reverse("login"), {"username": username, "password": password})


@pytest.mark.django_db
def test_five_failed_logins_lock_the_account_out_even_with_the_right_password(client):
    UserFactory(username="zhang")
    for attempt in range(settings.AXES_FAILURE_LIMIT - 1):
        response = _login(client, "zhang", f"wrong-{attempt}")
        assert response.status_code == 200 and "用户名或密码不正确" in response.content.decode()
    locked = _login(client, "zhang", "wrong-again")  # the fifth failure
    assert locked.status_code == 429

    response = _login(client, "zhang", PASSWORD)
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    page = response.content.decode()
    assert "登录已暂时锁定" in page and "15 分钟后再试" in page
    assert "registration/locked_out.html" in [t.name for t in response.templates]


@pytest.mark.django_db
def test_the_lock_out_is_per_user_name_and_address(client):
    UserFactory(username="zhang")
    UserFactory(username="li")
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        _login(client, "zhang", f"wrong-{attempt}")
    assert _login(client, "zhang", PASSWORD).status_code == 429
    # A colleague behind the same office address still gets in, and so does zhang from elsewhere:
    # someone guessing cannot lock a user out everywhere.
    assert _login(Client(), "li", PASSWORD).status_code == 302
    assert _login(Client(REMOTE_ADDR="10.0.0.9"), "zhang", PASSWORD).status_code == 302


@pytest.mark.django_db
def test_a_successful_login_resets_the_count(client):
    UserFactory(username="zhang")
    for attempt in range(settings.AXES_FAILURE_LIMIT - 1):
        _login(client, "zhang", f"wrong-{attempt}")
    assert _login(client, "zhang", PASSWORD).status_code == 302
    client.logout()
    for attempt in range(settings.AXES_FAILURE_LIMIT - 1):
        _login(client, "zhang", f"wrong-{attempt}")
    assert _login(client, "zhang", PASSWORD).status_code == 302


# --- admin site: superusers only ----------------------------------------------------------------------

@pytest.mark.django_db
def test_the_admin_refuses_staff_who_are_not_superusers(client):
    from django.contrib.auth.models import Permission

    staff = UserFactory(is_staff=True)
    staff.user_permissions.set(Permission.objects.all())  # even with every permission
    client.force_login(staff)
    for url in ("/admin/", "/admin/kpi/goaltable/", "/admin/auth/user/"):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/admin/login/"), url


@pytest.mark.django_db
def test_the_admin_opens_for_superusers(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    assert client.get("/admin/").status_code == 200
    assert client.get("/admin/kpi/goaltable/").status_code == 200


@pytest.mark.django_db
def test_the_admin_redirects_anonymous_visitors_to_its_login(client):
    response = client.get("/admin/")
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")


# --- production settings ------------------------------------------------------------------------------

def deploy_check(tmp_path, **env):
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL", "CELERY_"))}
    clean.update({
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_ALLOWED_HOSTS": "jixiao.example.org",
        "JIXIAO_VAR_DIR": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        **env,
    })
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=REPO, env=clean, capture_output=True, text=True, timeout=120,
    )


def test_the_production_settings_pass_the_deploy_check(tmp_path):
    done = deploy_check(tmp_path, DJANGO_SECRET_KEY=secrets.token_urlsafe(64))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no issues (0 silenced)" in done.stdout


def test_the_deploy_check_catches_a_weak_secret_key(tmp_path):
    done = deploy_check(tmp_path, DJANGO_SECRET_KEY="change-me")
    assert done.returncode != 0
    assert "security.W009" in done.stdout + done.stderr


# --- no secret in the repository ----------------------------------------------------------------------

# Settings of a developer machine and of the test run may hold throwaway values.
SECRET_ALLOWED = {"config/settings/local.py", "config/settings/test.py"}
# Public on purpose, not secrets: (file, what the finding shows) and why.
KNOWN_PUBLIC = {
    # The demo accounts' password is printed in the README; demo data never belongs in production.
    ("kpi/management/commands/load_demo.py", 'DEMO_PASSWORD = "jixiao-demo-2026"'),
}
SCANNER = "tests/test_security.py"  # this file: its examples are fake secrets
SECRET_NAME = r"(?:SECRET_KEY|SECRET|PASSWORD|PASSWD|TOKEN|API_KEY|ACCESS_KEY)"
RULES = {
    # SECRET_KEY = "…", EMAIL_HOST_PASSWORD = '…'
    "literal secret": re.compile(rf"^[ \t]*(?:\w*_)?{SECRET_NAME}\s*=\s*[rbuf]?[\"'][^\"']+[\"']", re.M),
    # env("DJANGO_SECRET_KEY", default="…") — only an empty or visibly insecure placeholder is allowed
    "secret default": re.compile(
        rf"env(?:\.\w+)?\(\s*[\"']\w*{SECRET_NAME}\w*[\"']\s*,\s*default\s*=\s*[\"'](?!insecure-|[\"'])[^\"']*[\"']"
    ),
    "private key": re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    "AWS key": re.compile(r"\bAKIA[0-9A-Z]{16}\b"),
    # scheme://user:password@host for a host other than this machine (local CI services are throwaway)
    "URL credentials": re.compile(
        r"\b[a-z][a-z0-9+.-]*://[^/\s:@\"']+:[^/\s@\"']+@(?!127\.0\.0\.1[:/]|localhost[:/])[\w.-]+"
    ),
}
SECRET_FILES = re.compile(r"(^|/)(\.env(\.(?!example$)[\w.-]+)?|[^/]+\.(env|pem|key|p12|pfx)|id_(rsa|ed25519|ecdsa))$")


def repository_files() -> list[str]:
    """Files git tracks, plus new files not ignored (a secret is caught before its commit).

    The committed virtualenv (.venv/) is third-party code and not scanned.
    """
    try:
        listed = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=REPO, capture_output=True, text=True, check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout")
    return sorted({name for name in listed.split("\0") if name and not name.startswith(".venv/")})


def findings(name: str, text: str) -> list[str]:
    found = []
    for rule, pattern in RULES.items():
        if rule in ("literal secret", "secret default", "URL credentials") and name.startswith("tests/"):
            continue  # throwaway test passwords and made-up hosts
        if rule in ("literal secret", "secret default") and (name in SECRET_ALLOWED or not name.endswith(".py")):
            continue
        found += [
            f"{name}: {rule}: {match.group(0)!r}" for match in pattern.finditer(text)
            if (name, match.group(0).strip()) not in KNOWN_PUBLIC
        ]
    return found


@pytest.mark.parametrize(
    ("name", "text", "caught"),
    [
        ("config/settings/base.py", 'SECRET_KEY = "k3y-from-my-laptop"\n', True),
        ("config/settings/production.py", '    EMAIL_HOST_PASSWORD = "hunter2"\n', True),
        ("config/settings/base.py", 'SECRET_KEY = env("DJANGO_SECRET_KEY", default="s3cr3t")\n', True),
        ("config/settings/base.py", 'SECRET_KEY = env("DJANGO_SECRET_KEY", default="insecure-local-only-key")\n',
         False),
        ("config/settings/production.py", 'SECRET_KEY = env("DJANGO_SECRET_KEY")\n', False),
        ("config/settings/local.py", 'SECRET_KEY = "dev-only"\n', False),
        ("deploy/app.env.example", "DATABASE_URL=postgres://jixiao:Pa55@db.prod.example.org/jixiao\n", True),
        (".ci/run", "export DATABASE_URL=postgres://jixiao:jixiao@127.0.0.1:5432/jixiao\n", False),
        ("README.md", "-----BEGIN RSA PRIVATE KEY-----\n", True),
        ("kpi/models.py", 'password = factory.django.Password("pw")\n', False),
        ("kpi/services.py", 'API_TOKEN = "ghp_abc"\n', True),
        ("kpi/management/commands/load_demo.py", 'DEMO_PASSWORD = "jixiao-demo-2026"\n', False),
    ],
)
def test_the_secret_scanner_catches_what_it_should(name, text, caught):
    assert bool(findings(name, text)) is caught


@pytest.mark.parametrize(
    ("name", "caught"),
    [(".env", True), ("deploy/.env.production", True), ("deploy/prod.env", True), ("certs/site.key", True),
     ("id_rsa", True), (".env.example", False), ("kpi/keys.py", False)],
)
def test_secret_files_are_recognised_by_name(name, caught):
    assert bool(SECRET_FILES.search(name)) is caught


def test_no_secret_is_committed():
    found, secret_files = [], []
    for name in repository_files():
        if name == SCANNER:
            continue
        if SECRET_FILES.search(name):
            secret_files.append(name)
        path = REPO / name
        if not path.is_file() or path.stat().st_size > 2_000_000:
            continue
        data = path.read_bytes()
        if b"\0" in data[:8000]:
            continue  # binary (spreadsheets, images)
        found += findings(name, data.decode("utf-8", errors="replace"))
    assert secret_files == []
    assert found == []

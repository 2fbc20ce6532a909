"""Response headers (config/middleware.py SecurityHeadersMiddleware): a Content-Security-Policy whose nonce
every inline script of the pages carries, Permissions-Policy, and Cache-Control: no-store on the report
page and every download."""
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.http import FileResponse, HttpResponse
from django.test import Client, RequestFactory
from django.urls import reverse

from config.middleware import SecurityHeadersMiddleware
from kpi.importers.services import actuals_errors_keep
from tests.test_reads_never_write import YEAR, get_cases, media, no_enqueue, urls, world  # noqa: F401 (fixtures)

REPO = Path(__file__).resolve().parents[1]
TEMPLATES = REPO / "templates"
SCRIPT = re.compile(r"<script\b([^>]*)>", re.IGNORECASE)


def _nonce(response) -> str:
    policy = response["Content-Security-Policy"]
    match = re.search(r"script-src 'self' 'nonce-([A-Za-z0-9_-]{16,})'", policy)
    assert match, policy
    return match.group(1)


def test_production_settings_send_the_headers(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env.update({"DJANGO_SETTINGS_MODULE": "config.settings.production", "JIXIAO_VAR_DIR": str(tmp_path),
                "DJANGO_SECRET_KEY": "x" * 50, "DJANGO_ALLOWED_HOSTS": "testserver",
                "DJANGO_SECURE_SSL_REDIRECT": "false"})
    probe = ("import json, django; django.setup(); from django.test import Client; "
             "r = Client().get('/healthz'); "  # a page without static files (production's need collecting)
             "print(json.dumps([r.get('Content-Security-Policy'), r.get('Permissions-Policy')]))")
    done = subprocess.run([sys.executable, "-c", probe], cwd=REPO, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    policy, permissions = json.loads(done.stdout.strip().splitlines()[-1])
    nonce = re.search(r"'nonce-([^']+)'", policy).group(1)
    assert policy == (f"default-src 'self'; script-src 'self' 'nonce-{nonce}'; style-src 'self' 'unsafe-inline'; "
                      "img-src 'self' data:; object-src 'none'; base-uri 'self'; frame-ancestors 'none'; "
                      "form-action 'self'")
    assert permissions == "camera=(), microphone=(), geolocation=(), payment=(), usb=()"


def test_each_request_gets_its_own_nonce(client):
    first, second = client.get(reverse("login")), client.get(reverse("login"))
    assert _nonce(first) != _nonce(second)


@pytest.mark.django_db
def test_every_script_of_the_pages_carries_the_nonce_or_is_a_static_file(world):
    client = Client()
    client.force_login(world.people["superuser"])
    pages = {
        "unit scorecard": reverse("scorecards:unit", args=[world.unit.pk, YEAR]),
        "project scorecard": reverse("scorecards:project", args=[world.fresh_project.pk]),
        "report page": reverse("reports:table", args=[world.stale_table.pk]),
        "selfeval unit page (a bundle being built)": reverse("selfeval:unit", args=[world.unit.pk, YEAR]),
        "API docs": reverse("api:docs"),
    }
    inline_seen = 0
    for name, url in pages.items():
        response = client.get(url)
        assert response.status_code == 200, name
        nonce, page = _nonce(response), response.content.decode()
        for attributes in SCRIPT.findall(page):
            if 'type="application/json"' in attributes:  # json_script's data: never run
                continue
            src = re.search(r'\bsrc="([^"]+)"', attributes)
            if src:
                assert src.group(1).startswith("/static/") or src.group(1).startswith("/api/"), (name, attributes)
            else:
                assert f'nonce="{nonce}"' in attributes, (name, attributes)
                inline_seen += 1
        assert not re.search(r"<[^>]+\son[a-z]+\s*=", page), name  # no inline event handler
    assert inline_seen >= 5  # the charts, the bundle's progress, Swagger's start-up script


def test_no_template_has_an_inline_event_handler():
    handlers = [f"{path.relative_to(REPO)}: {match.group(0)}"
                for path in TEMPLATES.rglob("*.html")
                for match in re.finditer(r"<[^>]*\son[a-z]+\s*=[^>]*>", path.read_text(encoding="utf-8"))]
    assert handlers == []


def test_every_inline_script_of_the_templates_has_the_nonce():
    missing = [f"{path.relative_to(REPO)}: {attributes}"
               for path in TEMPLATES.rglob("*.html")
               for attributes in SCRIPT.findall(path.read_text(encoding="utf-8"))
               if "src=" not in attributes and "csp_nonce" not in attributes]
    assert missing == []


# --- no-store -----------------------------------------------------------------------------------------

DOWNLOADS = {
    "scorecards:unit",  # its ?_export=xlsx/csv
    "reports:evidence", "monitoring:unit-xlsx", "selfeval:download", "selfeval:file",
    "importers:template", "importers:export", "importers:actuals-template", "importers:actuals-filled-template",
}


@pytest.mark.django_db
def test_the_report_page_and_every_download_are_never_stored(world):
    client = Client()
    client.force_login(world.people["superuser"])
    cases = {name: case_urls for name, case_urls in get_cases(world).items() if name in DOWNLOADS}
    token = actuals_errors_keep(user=world.people["superuser"], errors=["第 2 行：单位不存在。"])
    cases["importers:actuals-errors"] = urls("importers:actuals-errors", token)
    downloads, stored = set(), []
    for name, case_urls in cases.items():
        for url in case_urls:
            response = client.get(url)
            if response.streaming:
                b"".join(response.streaming_content)
            if response.has_header("Content-Disposition") and response.status_code == 200:
                downloads.add(name)
                if "no-store" not in response.get("Cache-Control", ""):
                    stored.append(url)
    assert stored == []
    assert downloads >= DOWNLOADS | {"importers:actuals-errors"}, DOWNLOADS - downloads
    page = client.get(reverse("reports:table", args=[world.stale_table.pk]))
    assert page.status_code == 200 and "no-store" in page["Cache-Control"]


@pytest.mark.parametrize("make", [
    lambda: FileResponse(io.BytesIO(b"x"), as_attachment=True, filename="监控表.xlsx"),
    lambda: _attachment(HttpResponse(b"a,b\n", content_type="text/csv")),
])
def test_a_download_is_marked_no_store_whoever_built_it(make):
    response = SecurityHeadersMiddleware(lambda request: make())(RequestFactory().get("/x"))
    assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]


def test_an_ordinary_page_keeps_its_caching():
    response = SecurityHeadersMiddleware(lambda request: HttpResponse("ok"))(RequestFactory().get("/x"))
    assert not response.has_header("Cache-Control")


def _attachment(response):
    response["Content-Disposition"] = "attachment; filename*=UTF-8''x.csv"
    return response

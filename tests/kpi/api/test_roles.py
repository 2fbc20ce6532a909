"""Every endpoint as each role — the unit's lead, its administrator, the reviewer above, a superuser, an
administrator of another unit, a read-only token — and as nobody: what the pages allow, the API allows; an
object outside the scope is 404; a read-only token never writes."""
from decimal import Decimal

import pytest
from django.urls import get_resolver, reverse

from kpi.reports.services import actual_record, report_submit
from tests.factories import rescore_stale

from .conftest import JULY

pytestmark = pytest.mark.django_db
ROLES = ("lead", "admin", "reviewer", "superuser", "outsider", "readonly")
PAGES = {"docs", "tokens", "token-revoke"}  # pages for people, not API endpoints (tests/kpi/api/test_schema.py, …)


def draft(world):
    return actual_record(indicator=world.indicators[0], as_of=JULY, value=Decimal("80"),
                         user=world.people["lead"]).report


def submitted(world):
    return report_submit(report=draft(world), user=world.people["lead"])


# endpoint: (method, the URL's arguments from the world, the body, {role: status})
ENDPOINTS = {
    "units": ("get", lambda w: [], None, dict.fromkeys(ROLES, 200)),
    "tables": ("get", lambda w: [], None, dict.fromkeys(ROLES, 200)),
    "table": ("get", lambda w: [w.table.pk], None, {**dict.fromkeys(ROLES, 200), "outsider": 404}),
    "table-reports": ("post", lambda w: [w.table.pk],
                      lambda w: {"as_of": "2026-07-31", "entries": [{"indicator": w.indicators[0].pk, "value": "80"}]},
                      {"lead": 201, "admin": 201, "reviewer": 403, "superuser": 201, "outsider": 404, "readonly": 403}),
    "report-submit": ("post", lambda w: [draft(w).pk], None,
                      {"lead": 200, "admin": 200, "reviewer": 403, "superuser": 200, "outsider": 404, "readonly": 403}),
    "report-withdraw": ("post", lambda w: [submitted(w).pk], None,
                        {"lead": 200, "admin": 200, "reviewer": 403, "superuser": 200, "outsider": 404,
                         "readonly": 403}),
    "report-approve": ("post", lambda w: [submitted(w).pk], None,
                       {"lead": 403, "admin": 200, "reviewer": 403, "superuser": 200, "outsider": 404, "readonly": 403}),
    "report-return": ("post", lambda w: [submitted(w).pk], lambda w: {"reason": "请核对"},
                      {"lead": 403, "admin": 200, "reviewer": 200, "superuser": 200, "outsider": 404, "readonly": 403}),
    "project-execution": ("post", lambda w: [w.project.pk], lambda w: {"as_of": "2026-07-31", "executed": "40"},
                          {"lead": 201, "admin": 201, "reviewer": 403, "superuser": 201, "outsider": 404,
                           "readonly": 403}),
    "unit-selfeval": ("get", lambda w: [w.unit.pk, 2026], None,
                      {"lead": 404, "admin": 200, "reviewer": 200, "superuser": 200, "outsider": 404, "readonly": 200}),
    "schema": ("get", lambda w: [], None, dict.fromkeys(ROLES, 200)),
}


def test_every_endpoint_of_the_api_is_walked():
    api = next(p for p in get_resolver().url_patterns if getattr(p, "namespace", None) == "api")
    assert {p.name for p in api.url_patterns} - PAGES == set(ENDPOINTS)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", ENDPOINTS)
def test_each_endpoint_as_each_role(world, api, name, role):
    method, args, body, expected = ENDPOINTS[name]
    url = reverse(f"api:{name}", args=args(world))
    rescore_stale()  # the self-evaluation is handed out once the tables are scored
    client = api(role)
    response = client.get(url) if method == "get" else client.post(url, body(world) if body else None)
    assert response.status_code == expected[role], (name, role, response.content.decode()[:300])
    if response.status_code >= 400:
        assert set(response.json()) == {"detail", "errors"}


@pytest.mark.parametrize("name", ENDPOINTS)
def test_each_endpoint_refuses_nobody_with_401(world, api, name):
    method, args, body, _expected = ENDPOINTS[name]
    url = reverse(f"api:{name}", args=args(world))
    response = api(None).get(url) if method == "get" else api(None).post(url, body(world) if body else None)
    assert response.status_code == 401 and response["WWW-Authenticate"] == 'Bearer realm="api"'

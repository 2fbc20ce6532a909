"""The OpenAPI schema validates (no warning either), names the contract's paths and verbs, and its docs are
served from the site's own static files (the site works offline)."""
import re

import pytest
import yaml
from django.contrib.staticfiles import finders
from django.core.management import call_command
from django.urls import reverse

pytestmark = pytest.mark.django_db
CONTRACT = {
    "/api/v1/units/": {"get"},
    "/api/v1/tables/": {"get"},
    "/api/v1/tables/{id}/": {"get"},
    "/api/v1/tables/{id}/reports/": {"post"},
    "/api/v1/reports/{id}/submit/": {"post"},
    "/api/v1/reports/{id}/withdraw/": {"post"},
    "/api/v1/reports/{id}/approve/": {"post"},
    "/api/v1/reports/{id}/return/": {"post"},
    "/api/v1/projects/{id}/execution/": {"post"},
    "/api/v1/units/{id}/selfeval/{year}/": {"get"},
}


@pytest.fixture
def schema(tmp_path) -> dict:
    path = tmp_path / "schema.yaml"
    # --fail-on-warn: a view or field drf-spectacular cannot describe fails the test, as it fails CI
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(path))
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def test_the_schema_validates_and_holds_exactly_the_contract(schema):
    assert schema["openapi"].startswith("3.")
    assert {path: set(ops) - {"parameters"} for path, ops in schema["paths"].items()} == CONTRACT


def test_every_operation_says_its_errors_in_the_one_shape_and_takes_a_bearer_token(schema):
    assert schema["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http", "scheme": "bearer",
        "description": "个人访问令牌（jx_ 开头），在网站的“个人访问令牌”页面创建；只读令牌不能修改数据。"}
    error = schema["components"]["schemas"]["Error"]
    assert set(error["properties"]) == {"detail", "errors"}
    for path, operations in schema["paths"].items():
        for verb, operation in operations.items():
            assert {"bearerAuth": []} in operation["security"], path
            assert "401" in operation["responses"] and "404" in operation["responses"] or path.endswith(
                ("/units/", "/tables/")), path
            if verb == "post":
                assert {"403", "409", "400"} <= set(operation["responses"]), path
                assert any(p["name"] == "Idempotency-Key" for p in operation["parameters"]), path


def test_the_indicator_has_the_contracts_names(schema):
    indicator = schema["components"]["schemas"]["Indicator"]["properties"]
    assert {"id", "level1", "level2", "name", "target", "kind", "value", "upper", "unit", "weight", "rule",
            "accumulation", "not_applicable"} <= set(indicator)
    assert indicator["value"]["type"] == "string" and indicator["weight"]["format"] == "decimal"
    entry = schema["components"]["schemas"]["EntryInRequest"]["properties"]
    assert {"indicator", "value", "met", "grade", "points", "forecast", "likelihood", "deviation_category",
            "deviation_reason", "needs_rectification", "rectification_measures"} <= set(entry)


def test_the_schema_is_served_to_signed_in_users_only(world, api, client):
    assert api(None).get(reverse("api:schema")).status_code == 401
    response = api("lead").get(reverse("api:schema"))
    assert response.status_code == 200 and b"openapi:" in response.content


def test_the_docs_are_a_page_from_the_sites_own_static_files(world, client):
    anonymous = client.get(reverse("api:docs"))
    assert anonymous.status_code == 302 and anonymous["Location"].startswith(reverse("login"))
    client.force_login(world.people["lead"])
    page = client.get(reverse("api:docs")).content.decode()
    assert "swagger-ui" in page and reverse("api:schema") in page
    assets = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert assets and all(not a.startswith(("http:", "https:", "//")) for a in assets), assets
    for asset in assets:
        if asset.startswith("/static/"):
            assert finders.find(asset.removeprefix("/static/")), asset

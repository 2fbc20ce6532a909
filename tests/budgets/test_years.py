"""Years outside budgets.years' range (issue 15): no URL, query string, form, file or service accepts or
stores year 99999 (or 0)."""
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from budgets.models import Project, UnitYear
from budgets.services import ensure_year_open, membership_grant, project_create, unit_year_set_closed
from budgets.years import YEAR_MAX, YEAR_MIN, YearConverter, year_valid
from kpi.api.services import token_create
from kpi.importers.actuals import ActualsImportError, actuals_import
from kpi.importers.forms import ActualsImportForm
from kpi.importers.parsed import NotADisclosure
from kpi.importers.services import document_read
from kpi.models import SelfEvalReport
from kpi.policies.forms import PolicyForm
from kpi.selfeval.services import selfeval_bundle_start
from tests.factories import UnitFactory, UserFactory

pytestmark = pytest.mark.django_db
BAD_YEARS = (99999, 0, YEAR_MIN - 1, YEAR_MAX + 1)


@pytest.fixture
def admin():
    unit = UnitFactory()
    user = UserFactory()
    membership_grant(user=user, unit=unit, role="admin")
    return unit, user


def test_the_range_is_one_constant():
    assert (YEAR_MIN, YEAR_MAX) == (2000, 2100)
    assert year_valid(2026) and not any(year_valid(y) for y in BAD_YEARS) and not year_valid("2026")
    with pytest.raises(ValueError):
        YearConverter().to_python("99999")


YEAR_URLS = ("scorecards:unit", "monitoring:unit", "monitoring:unit-xlsx", "selfeval:unit")


@pytest.mark.parametrize("year", [99999, 0])
def test_pages_of_a_year_out_of_range_are_404(client, admin, year):
    unit, user = admin
    client.force_login(user)
    assert client.get(reverse("scorecards:unit", args=[unit.pk, 2026])).status_code == 200
    for name in YEAR_URLS:
        assert client.get(reverse(name, args=[unit.pk, year])).status_code == 404, name
    assert client.get(reverse("yearclose:unit-year", args=[unit.pk, year])).status_code == 404
    assert client.get(reverse("api:unit-selfeval", args=[unit.pk, year])).status_code == 404


@pytest.mark.parametrize("year", [99999, 0])
def test_posts_of_a_year_out_of_range_store_nothing(client, admin, year):
    unit, user = admin
    client.force_login(user)
    assert client.post(reverse("yearclose:unit-year", args=[unit.pk, year]),
                       {"action": "close", "force": "on"}).status_code == 404
    assert client.post(reverse("selfeval:bundle", args=[unit.pk, year])).status_code == 404
    assert client.post(reverse("monitoring:unit-export", args=[unit.pk, year])).status_code == 404
    assert not UnitYear.objects.exists() and not SelfEvalReport.objects.exists()


def test_query_string_years_out_of_range_are_refused_or_ignored(client, admin):
    unit, user = admin
    client.force_login(user)
    _, secret = token_create(user=user, name="t", access="read")
    response = client.get("/api/v1/tables/?year=99999", headers={"authorization": f"Bearer {secret}"})
    assert response.status_code == 400 and "年度“99999”无效" in response.json()["errors"]["year"][0]
    assert client.get("/api/v1/tables/?year=2026", headers={"authorization": f"Bearer {secret}"}).status_code == 200
    # the pages fall back to a year of their own
    assert client.get(reverse("scorecards:home") + "?year=99999").status_code == 200
    template = client.get(reverse("importers:template") + "?year=99999")
    assert template.status_code == 200 and "99999" not in template["Content-Disposition"]


@pytest.mark.parametrize("year", BAD_YEARS)
def test_no_service_stores_such_a_year(admin, year):
    unit, user = admin
    with pytest.raises(ValidationError, match="年度"):
        project_create(unit=unit, year=year, name="某项目", budget_initial=Decimal("1"))
    with pytest.raises(ValidationError, match="无效"):
        ensure_year_open(unit_id=unit.pk, year=year)
    with pytest.raises(ValidationError):
        unit_year_set_closed(unit_year=UnitYear(unit=unit, year=year), closed=True, user=user)
    with pytest.raises(ValidationError):
        selfeval_bundle_start(unit=unit, year=year, user=user)
    with pytest.raises(ActualsImportError, match="无效"):
        actuals_import(unit=unit, year=year, rows_source=b"x", filename="a.csv", user=user)
    assert not Project.objects.exists() and not UnitYear.objects.exists() and not SelfEvalReport.objects.exists()


def test_forms_and_files_refuse_such_a_year(admin):
    unit, user = admin
    form = ActualsImportForm({"unit": unit.pk, "year": 99999, "kind": "actuals"}, user=user)
    assert not form.is_valid() and "year" in form.errors
    policy = PolicyForm({"name": "p", "year": 99999})
    assert not policy.is_valid() and "2000 到 2100" in policy.errors["year"][0]
    demo = Path(__file__).resolve().parents[2] / "kpi" / "demo" / "demo-disclosure-2026.txt"
    with pytest.raises(NotADisclosure, match="年度“99999”无效"):
        document_read(data=demo.read_bytes(), filename=demo.name, year=99999)

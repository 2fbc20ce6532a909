"""One way to show a number, a percentage and a person, everywhere."""
import datetime as dt
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.core import mail
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from budgets.services import membership_grant
from kpi.formatting import percent_text, person_name, plain_decimal
from kpi.reminders.services import reminders_send
from kpi.reports.services import actual_record, report_submit
from kpi.rescoring.tasks import rescore_table
from tests.factories import ProjectFactory, UserFactory, table_with_indicators


def person(first="", last="", username="u1"):
    return SimpleNamespace(first_name=first, last_name=last, get_username=lambda: username)


@pytest.mark.parametrize(("first", "last", "shown"), [
    ("芳", "王", "王芳"),  # family name first, no space — never "芳 王"
    ("王芳", "", "王芳"),  # a whole name in one field
    ("", "王", "王"),
    ("Fang", "Wang", "Fang Wang"),  # a Latin name keeps its own order
    ("", "", "u1"),
    ("  芳 ", " 王", "王芳"),
])
def test_person_name(first, last, shown):
    assert person_name(person(first, last)) == shown


def test_person_name_of_nobody():
    assert person_name(None) == ""


@pytest.mark.parametrize(("fraction", "shown"), [
    (Decimal("0.9321"), "93.21%"), (Decimal("0.43215"), "43.22%"), (Decimal("0.43225"), "43.23%"),
    (Decimal("1"), "100.00%"), (Decimal("0"), "0.00%"), ("0.5", "50.00%"), (None, None),
])
def test_percent_text_rounds_half_up(fraction, shown):
    assert percent_text(fraction) == shown


@given(st.decimals(min_value=Decimal("-1000000"), max_value=Decimal("1000000"), allow_nan=False, places=4))
def test_plain_decimal_reads_back_as_the_same_number(value):
    text = plain_decimal(value)
    assert "E" not in text and Decimal(text) == value


@pytest.mark.django_db
def test_the_same_person_reads_the_same_on_pages_and_in_mail(client, monkeypatch, settings):
    monkeypatch.setattr(rescore_table, "delay", lambda *args: None)
    settings.JIXIAO_REMINDER_DAY = 5
    lead = UserFactory(first_name="芳", last_name="王", email="wangfang@example.org")
    admin = UserFactory(first_name="敏", last_name="刘", email="liumin@example.org")
    overdue = ProjectFactory(lead=lead, name="逾期项目")
    project = ProjectFactory(lead=lead, unit=overdue.unit)
    membership_grant(user=admin, unit=project.unit, role="admin")
    table_with_indicators(overdue)
    _table, indicators = table_with_indicators(project)
    actual = actual_record(indicator=indicators[0], as_of=dt.date(2026, 7, 31), value=Decimal("50"), user=lead)
    report_submit(report=actual.report, user=lead)

    client.force_login(admin)
    project_page = client.get(reverse("scorecards:project", args=[project.pk])).content.decode()
    report_page = client.get(reverse("reports:table", args=[actual.report.table_id]),
                             {"as_of": "2026-07-31"}).content.decode()
    history = client.get(reverse("history:project", args=[project.pk])).content.decode()
    reminders_send(today=dt.date(2026, 8, 5))
    lead_mail = next(m for m in mail.outbox if m.to == ["wangfang@example.org"])
    for text in (project_page, report_page, history, lead_mail.body):
        assert "王芳" in text
        assert "芳 王" not in text
    assert "刘敏" in client.get(reverse("home")).content.decode()  # the navigation bar names the admin too


@pytest.mark.parametrize(("stored", "shown"), [
    ("48.6000", "48.60"), ("438.7680", "438.768"), ("10", "10.00"), ("0", "0.00"), ("12.34567", "12.3457"),
    ("0.0001", "0.0001"), ("1E+1", "10.00"),
])
def test_money_is_shown_as_published(stored, shown):
    from kpi.formatting import money_text

    assert money_text(Decimal(stored)) == shown


@pytest.mark.django_db
def test_an_amount_keeps_the_decimals_it_was_published_with():
    from budgets.models import Project

    project = ProjectFactory(budget_initial=Decimal("438.768"), fiscal=Decimal("438.768"))
    project.refresh_from_db()
    assert project.budget_initial == Decimal("438.768")
    from kpi.templatetags.kpi_format import money

    assert money(Project.objects.get(pk=project.pk).budget_initial) == "438.768"

"""A manager's path through the site in a real browser."""
import pytest

from budgets.services import membership_grant
from tests.factories import ProjectFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.integration, pytest.mark.django_db(transaction=True)]
PASSWORD = "pw-for-tests-123"


def login(page, live_server, username):
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")


def test_login_and_home(browser_page, live_server):
    lead = UserFactory(username="lead1")
    project = ProjectFactory(lead=lead)
    membership_grant(user=lead, unit=project.unit, role="lead")
    login(browser_page, live_server, "lead1")
    assert project.name in browser_page.content()

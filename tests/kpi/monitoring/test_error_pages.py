"""The 403, 404 and 500 pages are Chinese pages of the site (DEBUG off, as in production): what happened and
where to go, a PermissionDenied's own Chinese message shown — never the bare “403 Forbidden”."""
import pytest
from django.template.loader import render_to_string
from django.test import Client, RequestFactory
from django.urls import reverse
from django.views import defaults

from budgets.services import membership_grant
from tests.factories import ProjectFactory, UnitFactory, UserFactory

pytestmark = pytest.mark.django_db
SITE = "Jixiao 绩效目标管理"  # the site's own header (base.html)


@pytest.fixture(autouse=True)
def production(settings):
    settings.DEBUG = False


@pytest.fixture
def lead():
    unit = UnitFactory(name="社保中心")
    user = UserFactory(first_name="王芳")
    membership_grant(user=user, unit=unit, role="lead")
    ProjectFactory(unit=unit, lead=user, name="待遇发放项目")
    return user, unit


def test_a_lead_opening_an_administrator_page_gets_the_chinese_403_page(client, lead):
    user, unit = lead
    client.force_login(user)
    response = client.get(reverse("yearclose:unit-year", args=[unit.pk, 2026]))
    assert response.status_code == 403
    page = response.content.decode()
    assert "<h1>无权访问（403）</h1>" in page and SITE in page
    assert "只有本单位的单位管理员可以进行" in page  # the PermissionDenied's own message
    assert f'href="{reverse("home")}"' in page and "回到“我的项目”" in page and "王芳" in page  # the navigation
    assert "Forbidden" not in page


def test_a_permission_denied_without_a_message_says_so_in_chinese():
    request = RequestFactory().get("/somewhere/")
    request.user = UserFactory()
    from django.core.exceptions import PermissionDenied

    page = defaults.permission_denied(request, PermissionDenied()).content.decode()
    assert "您没有进行此操作或查看此页面的权限。" in page and SITE in page


def test_a_missing_page_gets_the_chinese_404_page(client, lead):
    client.force_login(lead[0])
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    page = response.content.decode()
    assert "<h1>页面不存在（404）</h1>" in page and "/no-such-page/" in page and SITE in page
    assert "回到“我的项目”" in page and "Not Found" not in page


def test_an_object_out_of_reach_gets_the_same_404_page_without_the_english_message(client, lead):
    client.force_login(lead[0])
    other = ProjectFactory(name="别人的项目")
    response = client.get(reverse("scorecards:project", args=[other.pk]))
    assert response.status_code == 404
    page = response.content.decode()
    assert "页面不存在（404）" in page and "No Project matches" not in page and "别人的项目" not in page


def test_an_anonymous_visitor_gets_the_404_page_too():
    response = Client().get("/no-such-page/")
    assert response.status_code == 404 and "页面不存在（404）" in response.content.decode()


def test_the_500_page_is_plain_chinese_and_needs_no_context():
    page = render_to_string("500.html")
    assert "<h1>服务器出错（500）</h1>" in page and 'href="/"' in page
    response = defaults.server_error(RequestFactory().get("/"))
    assert response.status_code == 500 and "服务器出错（500）" in response.content.decode()


def test_a_form_sent_without_its_token_gets_a_chinese_page(lead):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(lead[0])
    response = browser.post(reverse("logout"))
    assert response.status_code == 403
    page = response.content.decode()
    assert "页面已过期，请刷新后重试" in page and "CSRF verification failed" not in page

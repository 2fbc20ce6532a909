"""The API in a real browser: a lead opens the token page from their name, creates a token, copies it, a script
uses it, the lead revokes it; the API's docs render from the site's own files with the network cut off."""
import json
import re
import urllib.error
import urllib.request

import pytest

from budgets.services import membership_grant
from tests.e2e.conftest import login
from tests.factories import ProjectFactory, UserFactory, table_with_indicators

pytestmark = [pytest.mark.e2e, pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def api_get(live_server, path, secret):
    request = urllib.request.Request(f"{live_server.url}{path}", headers={"Authorization": f"Bearer {secret}"})
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


@pytest.fixture
def lead():
    user = UserFactory(username="lead1", first_name="芳", last_name="王")
    project = ProjectFactory(lead=user, name="浏览器接口项目")
    membership_grant(user=user, unit=project.unit, role="lead")
    table_with_indicators(project)
    return user


def test_a_lead_creates_uses_and_revokes_a_token(browser_page, live_server, lead):
    page = browser_page
    login(page, live_server, "lead1")
    page.click("header nav >> text=王芳")
    page.wait_for_url(f"{live_server.url}/api/v1/tokens/")
    assert page.locator("h1").inner_text() == "个人访问令牌"

    page.click("button:has-text('创建令牌')")  # no name: said beside the field
    assert "请填写令牌名称" in page.content()
    page.fill("input[name=name]", "预算系统同步")
    page.check("input[name=access][value=write]")
    page.click("button:has-text('创建令牌')")
    page.wait_for_load_state()
    assert "令牌只显示这一次" in page.content()
    secret = page.locator("code.secret").inner_text().strip()
    assert re.fullmatch(r"jx_[\w-]{40,}", secret)

    status, body = api_get(live_server, "/api/v1/tables/", secret)
    assert status == 200 and [t["project"]["name"] for t in body["results"]] == ["浏览器接口项目"]

    page.reload()  # shown once: a reload neither shows the secret again nor creates another token
    assert secret not in page.content() and secret[:10] in page.content()
    assert page.locator("table.tokens tbody tr").count() == 1
    page.click("tr:has-text('预算系统同步') button:has-text('撤销')")
    page.wait_for_load_state()
    assert "已撤销令牌“预算系统同步”" in page.content()
    status, body = api_get(live_server, "/api/v1/tables/", secret)
    assert status == 401 and body["detail"] == "令牌无效或已撤销。"


def test_the_docs_render_with_the_network_cut_off(browser_page, live_server, lead):
    page = browser_page
    outside = []

    def only_this_site(route):
        if route.request.url.startswith(live_server.url):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    page.route("**/*", only_this_site)
    login(page, live_server, "lead1")
    page.goto(f"{live_server.url}/api/v1/docs/")
    page.wait_for_selector(".opblock", timeout=20_000)
    assert page.locator(".opblock").count() == 10  # the ten operations of the contract
    assert "Jixiao 绩效目标管理 API" in page.content()
    assert outside == []

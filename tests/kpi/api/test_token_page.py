"""The page of one's personal access tokens: create (the secret shown once), list, revoke; linked from the
user's name in the navigation."""
import re

import pytest
from django.urls import reverse

from kpi.api.models import AccessToken
from kpi.api.services import ACTIVE_TOKENS_MAX, token_create

from .conftest import Api

pytestmark = pytest.mark.django_db
SECRET = re.compile(r'<code class="secret">(jx_[^<]+)</code>')


def test_the_users_name_in_the_navigation_opens_the_token_page(client, world):
    client.force_login(world.people["lead"])
    page = client.get(reverse("home")).content.decode()
    assert f'<a class="who" href="{reverse("api:tokens")}"' in page and "王芳" in page


def test_creating_a_token_shows_its_secret_once_and_it_works(client, world):
    lead = world.people["lead"]
    client.force_login(lead)
    response = client.post(reverse("api:tokens"), {"name": "预算系统同步", "access": "read"})
    assert response.status_code == 302 and response["Location"] == reverse("api:tokens")  # a reload creates nothing
    cookie = response.cookies["jixiao_api_token_created"]
    assert cookie["httponly"] and cookie["path"] == reverse("api:tokens") and cookie["max-age"] == 300
    shown = client.get(reverse("api:tokens"))
    page = shown.content.decode()
    assert shown["Cache-Control"] == "no-store"
    assert "令牌只显示这一次" in page and "已创建令牌“预算系统同步”（只读）" in page
    secret = SECRET.search(page).group(1)
    token = AccessToken.objects.get(user=lead, name="预算系统同步")
    assert token.access == "read" and token.prefix == secret[:10]
    assert Api(secret).get(reverse("api:units")).status_code == 200
    # the cookie is dropped as it is shown: listed by its start only, never again in full
    assert shown.cookies["jixiao_api_token_created"].value == ""
    again = client.get(reverse("api:tokens")).content.decode()
    assert secret not in again and f"{token.prefix}…" in again and "预算系统同步" in again


def test_the_page_lists_only_ones_own_tokens(client, world):
    client.force_login(world.people["lead"])
    page = client.get(reverse("api:tokens")).content.decode()
    assert "lead 的令牌" in page and "admin 的令牌" not in page and "只读" in page


@pytest.mark.parametrize(("data", "field", "message"), [
    ({"name": "", "access": "write"}, "name", "请填写令牌名称，如“预算系统同步”。"),
    ({"name": "x" * 101, "access": "write"}, "name", "名称最多 100 个字。"),
    ({"name": "脚本", "access": "admin"}, "access", "请选择只读或读写。"),
])
def test_a_wrong_form_says_why_beside_the_field_and_keeps_what_was_typed(client, world, data, field, message):
    client.force_login(world.people["lead"])
    before = AccessToken.objects.count()
    page = client.post(reverse("api:tokens"), data).content.decode()
    assert message in page and not SECRET.search(page)
    assert AccessToken.objects.count() == before
    if field == "access":
        assert 'value="脚本"' in page  # the name stays as typed


def test_at_most_twenty_active_tokens(client, world):
    lead = world.people["lead"]
    for n in range(ACTIVE_TOKENS_MAX - 1):  # the world gave the lead one already
        token_create(user=lead, name=f"t{n}", access="read")
    client.force_login(lead)
    response = client.post(reverse("api:tokens"), {"name": "再一个", "access": "read"})
    assert response.status_code == 200 and f"最多可有 {ACTIVE_TOKENS_MAX} 个有效令牌" in response.content.decode()
    assert "jixiao_api_token_created" not in response.cookies


def test_revoking_a_token_closes_it_and_says_so(client, world):
    token = world.tokens["lead"]
    client.force_login(world.people["lead"])
    response = client.post(reverse("api:token-revoke", args=[token.pk]), follow=True)
    page = response.content.decode()
    assert f"已撤销令牌“{token.name}”" in page and "已撤销" in page
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert Api(world.secrets["lead"]).get(reverse("api:units")).status_code == 401


def test_someone_elses_token_cannot_be_revoked(client, world):
    client.force_login(world.people["lead"])
    assert client.post(reverse("api:token-revoke", args=[world.tokens["admin"].pk])).status_code == 404
    assert client.get(reverse("api:token-revoke", args=[world.tokens["lead"].pk])).status_code == 405
    world.tokens["admin"].refresh_from_db()
    assert world.tokens["admin"].revoked_at is None


def test_the_page_needs_a_login(client):
    response = client.get(reverse("api:tokens"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_a_created_cookie_of_someone_else_or_forged_shows_nothing(client, world):
    from django.core.signing import get_cookie_signer

    from kpi.api.views import CREATED_COOKIE, CREATED_SALT

    client.force_login(world.people["lead"])
    signer = get_cookie_signer(salt=CREATED_COOKIE + CREATED_SALT)
    for value in (f"{world.tokens['admin'].pk}:{world.secrets['admin']}", "x:y",
                  f"{world.tokens['lead'].pk}:jx_guess"):
        client.cookies[CREATED_COOKIE] = signer.sign(value)
        page = client.get(reverse("api:tokens")).content.decode()
        assert "令牌只显示这一次" not in page and world.secrets["admin"] not in page
    client.cookies[CREATED_COOKIE] = f"{world.tokens['lead'].pk}:{world.secrets['lead']}"  # unsigned
    assert "令牌只显示这一次" not in client.get(reverse("api:tokens")).content.decode()


def test_a_superuser_sees_and_revokes_tokens_in_the_admin_but_never_their_secrets(client, world):
    client.force_login(world.people["superuser"])
    listing = client.get("/admin/api/accesstoken/").content.decode()
    assert "lead 的令牌" in listing and world.tokens["lead"].digest not in listing
    assert client.get("/admin/api/accesstoken/add/").status_code == 403
    response = client.post("/admin/api/accesstoken/", {"action": "revoke", "_selected_action": [world.tokens["lead"].pk]},
                           follow=True)
    assert "已撤销 1 个令牌。" in response.content.decode()
    world.tokens["lead"].refresh_from_db()
    assert world.tokens["lead"].revoked_at is not None

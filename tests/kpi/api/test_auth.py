"""Who gets in: bearer tokens (stored hashed, revocable, read-only or read-write), the browser's session with
its CSRF check, nobody else; reads with a token write nothing; throttling per token."""
import hashlib
import json

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from kpi.api import auth
from kpi.api.models import AccessToken
from kpi.api.services import token_revoke
from kpi.models import Actual

from .conftest import JULY, Api, entry

pytestmark = pytest.mark.django_db
WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")


def test_nobody_gets_401_with_the_bearer_challenge_and_the_error_shape(api):
    response = api(None).get(reverse("api:units"))
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'
    body = response.json()
    assert set(body) == {"detail", "errors"} and body["errors"] == {}
    assert "Bearer" in body["detail"]


@pytest.mark.parametrize("header", ["Bearer jx_not-a-token", "Bearer nonsense", "Bearer two words", "bearer"])
def test_an_unknown_or_malformed_token_is_401(world, header):
    response = Client().get(reverse("api:units"), headers={"authorization": header})
    assert response.status_code == 401, header
    assert response.json()["detail"] in ("令牌无效或已撤销。", "Authorization 请求头应为“Bearer <令牌>”，令牌中不能有空格。",
                                          "需要认证：请在 Authorization 请求头中提供“Bearer <令牌>”，或先登录。")


def test_a_token_is_stored_hashed_and_only_its_start_is_kept(world):
    token, secret = world.tokens["lead"], world.secrets["lead"]
    assert secret.startswith("jx_") and len(secret) > 40
    stored = AccessToken.objects.values().get(pk=token.pk)
    assert stored["digest"] == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in str(stored) and stored["prefix"] == secret[:10]


def test_a_revoked_token_opens_nothing(world, api):
    assert api("lead").get(reverse("api:units")).status_code == 200
    token_revoke(token=world.tokens["lead"])
    response = api("lead").get(reverse("api:units"))
    assert response.status_code == 401 and response.json()["detail"] == "令牌无效或已撤销。"


def test_the_token_of_a_deactivated_user_opens_nothing(world, api):
    world.people["lead"].is_active = False
    world.people["lead"].save()
    assert api("lead").get(reverse("api:units")).status_code == 401


def test_a_read_only_token_reads_but_never_writes(world, api):
    readonly = api("readonly")
    assert readonly.get(reverse("api:table", args=[world.table.pk])).status_code == 200
    response = readonly.post(reverse("api:table-reports", args=[world.table.pk]),
                             {"as_of": "2026-07-31", "entries": [entry(world.named("培训人次"), value="80")]})
    assert response.status_code == 403
    assert response.json() == {"detail": "该令牌为只读令牌，不能修改数据；如需写入，请创建“读写”令牌。", "errors": {}}
    assert not Actual.objects.exists()
    # the same user with a read-write token may
    assert api("admin").post(reverse("api:table-reports", args=[world.table.pk]),
                             {"as_of": "2026-07-31", "entries": [entry(world.named("培训人次"), value="80")]}
                             ).status_code == 201


def test_reads_with_a_token_write_nothing(world, api):
    """No "last used" time, no session: a GET through the API writes no row (tests/test_reads_never_write.py
    walks the API with a session; this is the token's side)."""
    client = api("admin")
    urls = [reverse("api:units"), reverse("api:tables") + "?year=2026", reverse("api:table", args=[world.table.pk]),
            reverse("api:unit-selfeval", args=[world.unit.pk, 2026]), reverse("api:schema")]
    with CaptureQueriesContext(connection) as queries:
        codes = [client.get(url).status_code for url in urls]
    assert codes[:4] == [200, 200, 200, 409] and codes[4] == 200
    assert [q["sql"] for q in queries.captured_queries if q["sql"].lstrip().upper().startswith(WRITES)] == []


def test_the_browser_session_reads_and_its_writes_need_the_csrf_token(world):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(world.people["lead"])
    assert browser.get(reverse("api:units")).status_code == 200
    url = reverse("api:table-reports", args=[world.table.pk])
    body = json.dumps({"as_of": "2026-07-31", "entries": [{"indicator": world.named("培训人次").pk, "value": "80"}]})
    refused = browser.post(url, body, content_type="application/json")
    assert refused.status_code == 403 and "CSRF" in refused.json()["detail"]
    assert not Actual.objects.exists()
    browser.get(reverse("api:tokens"))  # any page sets the csrftoken cookie
    token = browser.cookies["csrftoken"].value
    assert browser.post(url, body, content_type="application/json", headers={"X-CSRFToken": token}).status_code == 201


def test_a_bearer_token_needs_no_csrf_token(world):
    client = Api(world.secrets["lead"], Client(enforce_csrf_checks=True))
    response = client.post(reverse("api:table-reports", args=[world.table.pk]),
                           {"as_of": "2026-07-31", "entries": [entry(world.named("培训人次"), value="80")]})
    assert response.status_code == 201


# --- throttling ------------------------------------------------------------------------------------

@pytest.fixture
def low_rates(monkeypatch):
    monkeypatch.setattr(auth.ReadThrottle, "THROTTLE_RATES", {"api_read": "3/minute", "api_write": "2/minute"})
    monkeypatch.setattr(auth.WriteThrottle, "THROTTLE_RATES", {"api_read": "3/minute", "api_write": "2/minute"})


def test_reads_are_throttled_per_token_with_retry_after(world, api, low_rates):
    admin, readonly = api("admin"), api("readonly")
    assert [admin.get(reverse("api:units")).status_code for _ in range(3)] == [200, 200, 200]
    throttled = admin.get(reverse("api:units"))
    assert throttled.status_code == 429 and int(throttled["Retry-After"]) > 0
    assert "请求过于频繁" in throttled.json()["detail"]
    # another token of the same person has its own count
    assert readonly.get(reverse("api:units")).status_code == 200


def test_writes_are_counted_apart_from_reads(world, api, low_rates):
    lead = api("lead")
    url = reverse("api:table-reports", args=[world.table.pk])
    for value in ("80", "81"):
        assert lead.post(url, {"as_of": "2026-07-31",
                               "entries": [entry(world.named("培训人次"), value=value)]}).status_code == 201
    assert lead.post(url, {"as_of": "2026-07-31",
                           "entries": [entry(world.named("培训人次"), value="82")]}).status_code == 429
    assert Actual.objects.filter(as_of=JULY).count() == 2
    assert lead.get(reverse("api:units")).status_code == 200  # reads still go through


def test_the_documented_rates_are_the_settings(settings):
    rates = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
    assert rates == {"api_read": "600/minute", "api_write": "120/minute"}

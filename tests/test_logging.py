"""Structured logs: one line per request and per task, with the user and the object; errors with their
traceback in the log, never on the page."""
import json
import logging

import pytest
from django.urls import reverse

from config.logging import JsonFormatter
from tests.factories import ProjectFactory, UserFactory

pytestmark = pytest.mark.django_db


def records(caplog, name):
    return [r for r in caplog.records if r.name == name]


def test_one_line_per_request_with_the_user_and_the_object(client, caplog):
    lead = UserFactory(username="logged-lead")
    project = ProjectFactory(lead=lead)
    client.force_login(lead)
    with caplog.at_level(logging.INFO, logger="jixiao.request"):
        client.get(reverse("scorecards:project", args=[project.pk]))
    (record,) = records(caplog, "jixiao.request")
    line = json.loads(JsonFormatter().format(record))
    assert line["event"] == "request" and line["status"] == 200 and line["user"] == "logged-lead"
    assert line["view"] == "scorecards:project" and json.loads(line["objects"]) == {"pk": project.pk}
    assert line["method"] == "GET" and line["ms"] >= 0


def test_a_task_run_is_one_line(caplog, monkeypatch):
    from kpi.rescoring.tasks import rescore_stale_sweep

    with caplog.at_level(logging.INFO, logger="jixiao.task"):
        rescore_stale_sweep.apply()
    (record,) = [r for r in records(caplog, "jixiao.task") if getattr(r, "event", "") == "task"]
    line = json.loads(JsonFormatter().format(record))
    assert line["task"] == "kpi.tasks.rescore_stale_sweep" and line["state"] == "SUCCESS"


def test_an_error_reaches_the_log_with_its_traceback_and_never_the_user(client, caplog, settings, monkeypatch):
    from kpi.scorecards import views

    settings.DEBUG = False
    user = UserFactory()
    client.force_login(user)
    client.raise_request_exception = False

    def broken(**kwargs):
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(views, "latest_table_scores", broken)
    with caplog.at_level(logging.INFO):
        response = client.get(reverse("home"))
    assert response.status_code == 500
    assert "secret internal detail" not in response.content.decode() and "Traceback" not in response.content.decode()
    logged = [json.loads(JsonFormatter().format(r)) for r in caplog.records if r.exc_info]
    assert any("secret internal detail" in line.get("traceback", "") for line in logged)
    assert records(caplog, "jixiao.request")[-1].status == 500

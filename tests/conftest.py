"""Shared fixtures, and the rule that CI may not skip an integration test."""
import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SEEDS = REPO.parent / "shared" / "seeds"


def pytest_runtest_makereport(item, call):
    """Under CI=true a skipped integration test is a failure: CI must really run against the servers."""
    if os.environ.get("CI", "").lower() != "true" or item.get_closest_marker("integration") is None:
        return None
    from _pytest.runner import TestReport

    report = TestReport.from_item_and_call(item, call)
    if report.skipped:
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"CI=true：集成测试不允许跳过（{reason}）"
    return report


@pytest.fixture
def seeds_dir():
    if not SEEDS.is_dir():
        pytest.skip(f"shared seeds not found at {SEEDS}: these tests need the ../shared checkout beside the repo")
    return SEEDS


@pytest.fixture
def django_capture_on_commit_callbacks(django_capture_on_commit_callbacks):
    """pytest-django's, but each capture starts as a request does: no batch of ids gathered by the test's
    earlier writes is still open (kpi.enqueue.CommitBatch) — their transaction, the test's, never commits,
    so what the captured block adds would join a callback the capture never runs."""
    from contextlib import contextmanager

    from kpi.enqueue import CommitBatch

    @contextmanager
    def capture(**kwargs):
        CommitBatch.forget_all()
        with django_capture_on_commit_callbacks(**kwargs) as callbacks:
            yield callbacks

    return capture

"""The rescore trigger: one message per changed table when the transaction commits, none for what was
rolled back, at once outside a transaction — with Django's public on_commit only."""
import datetime as dt
from decimal import Decimal

import pytest
from django.db import transaction

from kpi.models import GoalTable
from kpi.reports.services import actual_record
from kpi.rescoring.services import goal_tables_rescore_soon, stale_tables_sweep
from kpi.rescoring.tasks import rescore_table
from tests.factories import table_with_indicators

JULY = dt.date(2026, 7, 31)


@pytest.fixture
def sent(monkeypatch):
    messages = []
    monkeypatch.setattr(rescore_table, "delay", lambda table_id: messages.append(table_id))
    return messages


@pytest.mark.django_db(transaction=True)
def test_a_committed_transaction_sends_each_table_once(sent):
    table, indicators = table_with_indicators()
    other, other_indicators = table_with_indicators()
    sent.clear()
    with transaction.atomic():
        for indicator in indicators:
            actual_record(indicator=indicator, as_of=JULY, value=Decimal("1"))
        actual_record(indicator=other_indicators[0], as_of=JULY, value=Decimal("1"))
        assert sent == []  # nothing before the commit
    assert sent == [table.pk, other.pk]


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_transaction_sends_nothing_and_leaves_nothing_for_the_next(sent):
    table, _ = table_with_indicators()
    other, _ = table_with_indicators()
    sent.clear()
    with pytest.raises(RuntimeError), transaction.atomic():
        goal_tables_rescore_soon(table_ids=[table.pk])
        raise RuntimeError("rolled back")
    assert sent == []
    with transaction.atomic():
        goal_tables_rescore_soon(table_ids=[other.pk])
    assert sent == [other.pk]  # the rolled-back table is not sent by the next transaction


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_savepoint_drops_only_its_own_batch(sent):
    table, _ = table_with_indicators()
    other, _ = table_with_indicators()
    sent.clear()
    with transaction.atomic():
        try:
            with transaction.atomic():
                goal_tables_rescore_soon(table_ids=[table.pk])
                raise RuntimeError("inner block fails")
        except RuntimeError:
            pass
        goal_tables_rescore_soon(table_ids=[other.pk])
    assert sent == [other.pk]


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_the_message_goes_at_once(sent):
    table, _ = table_with_indicators()
    sent.clear()
    goal_tables_rescore_soon(table_ids=[table.pk])
    assert sent == [table.pk]


@pytest.mark.django_db
def test_the_sweep_rescores_what_a_lost_message_left_stale(sent):
    table, indicators = table_with_indicators()
    actual_record(indicator=indicators[0], as_of=JULY, value=Decimal("50"))  # its message is never delivered
    assert GoalTable.objects.get(pk=table.pk).is_stale
    assert stale_tables_sweep() == 1
    table.refresh_from_db()
    assert not table.is_stale and table.scores.exists()
    assert stale_tables_sweep() == 0  # nothing left

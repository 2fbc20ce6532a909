"""kpi.enqueue.CommitBatch: ids gathered over one transaction, handed on once when it commits."""
import pytest
from django.db import transaction

from kpi.enqueue import CommitBatch

pytestmark = pytest.mark.django_db(transaction=True)  # real commits and rollbacks


def test_one_call_per_commit_with_every_id_once_in_order():
    seen = []
    batch = CommitBatch(seen.append)
    with transaction.atomic():
        batch.add([3, 1])
        batch.add([1, 2, None])
        with transaction.atomic():  # a savepoint belongs to the same transaction
            batch.add([4])
        assert seen == []  # nothing before the commit
    assert seen == [[3, 1, 2, 4]]
    with transaction.atomic():
        batch.add([5])
    assert seen == [[3, 1, 2, 4], [5]]


def test_a_rolled_back_transactions_ids_are_not_handed_to_the_next_commit():
    seen = []
    batch = CommitBatch(seen.append)
    with pytest.raises(RuntimeError), transaction.atomic():
        batch.add([1, 2])
        raise RuntimeError("rolled back")
    with transaction.atomic():
        batch.add([3])
    assert seen == [[3]]


def test_outside_a_transaction_the_action_runs_at_once_and_empty_adds_do_nothing():
    seen = []
    batch = CommitBatch(seen.append)
    batch.add([])
    batch.add([None])
    batch.add([7, 8])
    assert seen == [[7, 8]]


def test_a_robust_batch_logs_a_failure_and_the_commit_stands(caplog):
    from kpi.models import ScoringPolicy

    def fail(ids):
        raise ValueError(f"cannot sync {ids}")

    batch = CommitBatch(fail, robust=True)
    with transaction.atomic():
        ScoringPolicy.objects.create(name="提交仍然有效")
        batch.add([9])
    assert ScoringPolicy.objects.filter(name="提交仍然有效").exists()
    assert "cannot sync [9]" in caplog.text

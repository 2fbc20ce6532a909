"""A bundle's documents rendered by several processes: the same bytes, in the same order, as in one."""
import os

import pytest

from kpi.selfeval import batch


def _render(entry) -> bytes:
    return f"{entry}:{os.getpid()}".encode()


def test_documents_come_back_in_order_from_several_processes():
    entries = list(range(40))
    seen = []
    documents = list(batch.render_all(entries, _render, processes=2, on_progress=seen.append))
    assert [int(d.split(b":")[0]) for d in documents] == entries
    pids = {d.split(b":")[1] for d in documents}
    assert str(os.getpid()).encode() not in pids  # rendered in the children, not here
    assert seen[-1] == len(entries) and seen == sorted(seen)


def test_one_process_renders_here():
    documents = list(batch.render_all([1, 2, 3], _render, processes=1))
    assert {d.split(b":")[1] for d in documents} == {str(os.getpid()).encode()}


def _fail(entry) -> bytes:
    if entry == 7:
        raise ValueError("broken")
    return b"ok"


def test_a_failure_in_a_child_reaches_the_caller():
    with pytest.raises(ValueError, match="broken"):
        list(batch.render_all(list(range(20)), _fail, processes=2))


@pytest.mark.django_db
def test_a_bundle_built_by_two_processes_holds_the_same_files(world, settings):
    import zipfile

    from kpi.models import SelfEvalReport
    from kpi.selfeval import services

    def build(processes):
        settings.JIXIAO_BUNDLE_PROCESSES = processes
        report = services.selfeval_bundle_start(unit=world.unit, year=2026)
        services.selfeval_bundle_build(report_id=report.pk)
        report.refresh_from_db()
        assert report.status == SelfEvalReport.Status.DONE
        with report.file.open("rb") as handle, zipfile.ZipFile(handle) as archive:
            return archive.namelist(), [archive.getinfo(n).file_size > 0 for n in archive.namelist()]

    one = build(1)
    SelfEvalReport.objects.all().delete()
    assert build(2) == one


CHILD_SCRIPT = """
import os, sys, time
sys.path.insert(0, {repo!r})
from kpi.selfeval import batch

def slow(entry):
    with open(os.path.join({folder!r}, str(os.getpid())), "w"):
        pass
    time.sleep(0.2)
    return b"x"

for _ in batch.render_all(list(range(500)), slow, processes=2):
    pass
"""


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/status") as status:
            return "\nState:\tZ" not in status.read()  # a zombie has exited
    except FileNotFoundError:
        return False


def test_the_children_exit_when_the_parent_is_killed(tmp_path):
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path

    repo = str(Path(__file__).resolve().parents[3])
    parent = subprocess.Popen([sys.executable, "-c", CHILD_SCRIPT.format(repo=repo, folder=str(tmp_path))])
    deadline = time.monotonic() + 30
    while len(list(tmp_path.iterdir())) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    children = [int(p.name) for p in tmp_path.iterdir()]
    assert len(children) == 2 and all(_alive(pid) for pid in children)
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    deadline = time.monotonic() + 10
    while any(_alive(pid) for pid in children) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_alive(pid) for pid in children)


def test_progress_is_counted_without_asking_every_document_each_time(monkeypatch):
    """The progress was once the sum of done() over every future after each document: four million calls
    (seconds of this process's CPU, taken from the renderers) for a 2,000-document bundle."""
    from concurrent.futures import Future

    calls = 0
    done = Future.done

    def counted(self):
        nonlocal calls
        calls += 1
        return done(self)

    monkeypatch.setattr(Future, "done", counted)
    entries = list(range(300))
    seen = []
    assert len(list(batch.render_all(entries, _render, processes=2, on_progress=seen.append))) == 300
    assert seen[-1] == 300 and seen == sorted(seen)
    assert calls < 3 * len(entries)  # linear, not 300 × 300

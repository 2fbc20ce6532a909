"""Timing helpers: percentiles, and pages measured in process (django.test.Client) with their queries and size."""
from __future__ import annotations

import json
import math
import re
import time
from dataclasses import dataclass

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

FILE_POLL_SECONDS = 0.1
FILE_TIMEOUT_SECONDS = 600
# Where a page that starts a task says how to follow it: a data-*progress* attribute or a fetch("…") call.
_PROGRESS_IN_HTML = re.compile(r'data-[\w-]*progress[\w-]*="([^"]+)"|fetch\("([^"]+)"')
_FILE_KEYS = ("file_url", "download_url", "url")
_PROGRESS_KEYS = ("progress_url", "poll_url")


def percentile(values: list[float], q: float) -> float | None:
    """The nearest-rank q-th percentile (q in 0–100) of the values; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def median(values: list[float]) -> float | None:
    if not values:
        return None
    ordered, middle = sorted(values), len(values) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 1)


def logged_in_client(user) -> Client:
    client = Client()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


@dataclass
class Fetched:
    status: int
    body: bytes
    content_type: str
    note: str = ""  # why a response is not what was wanted
    location: str = ""  # where a redirect points


def get_page(client: Client, url: str) -> Fetched:
    """One GET, its body read to the end (streamed or not). An exception in the view is a 500."""
    try:
        response = client.get(url)
    except Exception as error:  # the benchmark reports it and goes on
        return Fetched(500, b"", "", f"{type(error).__name__}: {error}")
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return Fetched(response.status_code, body, response.get("Content-Type", ""), location=response.get("Location", ""))


def get_file(client: Client, url: str, *, timeout: float = FILE_TIMEOUT_SECONDS) -> Fetched:
    """A download, followed to the file when the URL answers with a task instead: a redirect (followed),
    JSON with a file URL once done (or a progress URL to poll), or a page naming its progress URL."""
    deadline = time.monotonic() + timeout
    fetched = get_page(client, url)
    poll = None
    while time.monotonic() < deadline:
        if fetched.status in (301, 302, 303, 307, 308) and fetched.location:
            url = fetched.location
            fetched = get_page(client, url)
            continue
        if fetched.status != 200:
            return fetched
        kind = fetched.content_type.split(";")[0].strip()
        if kind == "application/json":
            data = json.loads(fetched.body or b"{}")
            if data.get("status") in ("failed", "error"):
                return Fetched(500, fetched.body, kind, f"任务失败：{data.get('error', '')}")
            done = next((data[k] for k in _FILE_KEYS if data.get(k)), None)
            if done:
                url = done
                fetched = get_page(client, url)
                continue
            poll = next((data[k] for k in _PROGRESS_KEYS if data.get(k)), poll or url)
        elif kind == "text/html":
            found = _PROGRESS_IN_HTML.search(fetched.body.decode("utf-8", "replace"))
            if found is None:
                return Fetched(200, fetched.body, kind, "返回的是网页而不是文件")
            poll = found.group(1) or found.group(2)
        else:
            return fetched  # the file
        time.sleep(FILE_POLL_SECONDS)
        fetched = get_page(client, poll)
    return Fetched(504, b"", "", f"{timeout:.0f} 秒内文件未生成")


@dataclass
class PageFigures:
    p50_ms: float | None
    p95_ms: float | None
    queries: int
    bytes: int
    status: int
    samples: int
    note: str = ""

    def as_json(self) -> dict:
        figures = {"p50_ms": self.p50_ms, "p95_ms": self.p95_ms, "queries": self.queries, "bytes": self.bytes,
                   "status": self.status, "samples": self.samples}
        if self.note:
            figures["note"] = self.note
        return figures


def measure_page(client: Client, url: str, *, repeat: int, budget_seconds: float | None = None,
                 fetch=get_page) -> PageFigures:
    """One warm-up GET, one GET whose queries are counted, then `repeat` timed GETs — fewer when the timed
    ones have used `budget_seconds` (at least three are made, all of them when it is None)."""
    warm = fetch(client, url)
    if warm.status != 200 or warm.note:
        return PageFigures(None, None, 0, len(warm.body), warm.status, 0, warm.note)
    with CaptureQueriesContext(connection) as captured:
        counted = fetch(client, url)
    queries = len(captured.captured_queries)
    timings, status, note = [], counted.status, counted.note
    started = time.perf_counter()
    for _ in range(repeat):
        begin = time.perf_counter()
        fetched = fetch(client, url)
        timings.append(time.perf_counter() - begin)
        if fetched.status != 200 or fetched.note:
            status, note = fetched.status, fetched.note
            break
        if budget_seconds and len(timings) >= 3 and time.perf_counter() - started > budget_seconds:
            break
    return PageFigures(ms(median(timings)), ms(percentile(timings, 95)), queries, len(counted.body), status,
                       len(timings), note)

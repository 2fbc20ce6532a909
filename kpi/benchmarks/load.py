"""The HTTP load driver: logged-in sessions for a server of the production settings, and N users each
GETting one page in a loop for a while, with the standard library's http.client (one kept-alive
connection per user, opened again when the server closes it)."""
from __future__ import annotations

import http.client
import threading
import time
from dataclasses import dataclass

from django.conf import settings
from django.test.utils import override_settings

from .timing import logged_in_client, ms, percentile

REQUEST_TIMEOUT = 120  # seconds one GET may take under load before it counts as an error


def session_cookies(user, *, count: int, secret_key: str) -> list[str]:
    """`count` session keys of `user`, stored in the database as a login stores them, signed with the
    server's SECRET_KEY (the session data and the user's session hash depend on it)."""
    with override_settings(SECRET_KEY=secret_key, SECRET_KEY_FALLBACKS=[]):
        return [logged_in_client(user).cookies[settings.SESSION_COOKIE_NAME].value for _ in range(count)]


def _headers(cookie: str) -> dict:
    # Behind its proxy the production site sees https (it redirects plain http).
    return {"Host": "127.0.0.1", "X-Forwarded-Proto": "https", "Cookie": f"{settings.SESSION_COOKIE_NAME}={cookie}"}


def get_once(port: int, path: str, cookie: str) -> int:
    """One GET with the session; its status (0 when the connection failed)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT)
    try:
        connection.request("GET", path, headers=_headers(cookie))
        response = connection.getresponse()
        response.read()
        return response.status
    except (OSError, http.client.HTTPException):
        return 0
    finally:
        connection.close()


@dataclass
class LoadFigures:
    users: int
    rps: float | None
    p95_ms: float | None
    errors: int

    def as_json(self) -> dict:
        return {"users": self.users, "rps": self.rps, "p95_ms": self.p95_ms, "errors": self.errors}


def no_load() -> LoadFigures:
    return LoadFigures(users=0, rps=None, p95_ms=None, errors=0)


def load_run(*, port: int, path: str, cookies: list[str], seconds: float) -> LoadFigures:
    """Every cookie is a user GETting `path` in a loop, all starting together, for `seconds`: requests per
    second (every answered request, over the time from the start to the last answer), the 95th percentile
    of the time of one request, and the errors (a status other than 200, a failed connection, a timeout)."""
    timings: list[float] = []
    errors = [0]
    lock = threading.Lock()
    start = threading.Barrier(len(cookies) + 1)
    finished: list[float] = []

    def user(cookie: str) -> None:
        connection = None
        mine, failed = [], 0
        start.wait()
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            begin = time.perf_counter()
            try:
                if connection is None:
                    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT)
                connection.request("GET", path, headers=_headers(cookie))
                response = connection.getresponse()
                response.read()
                ok = response.status == 200
                if response.will_close:
                    connection.close()
                    connection = None
            except (OSError, http.client.HTTPException):
                ok = False
                if connection is not None:
                    connection.close()
                connection = None
            mine.append(time.perf_counter() - begin)
            failed += not ok
        if connection is not None:
            connection.close()
        with lock:
            timings.extend(mine)
            errors[0] += failed
            finished.append(time.perf_counter())

    threads = [threading.Thread(target=user, args=(cookie,), daemon=True) for cookie in cookies]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = max(finished, default=began) - began
    rps = round(len(timings) / elapsed, 2) if timings and elapsed > 0 else None
    return LoadFigures(users=len(cookies), rps=rps, p95_ms=ms(percentile(timings, 95)), errors=errors[0])

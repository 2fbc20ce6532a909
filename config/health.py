"""/healthz — for load balancers and monitors: is the database reachable, is the broker reachable?

200 with {"database": "ok", "broker": "ok"} when both answer; 503 with the failing part named otherwise.
No login (a load balancer has none), no data, nothing written, never cached.
"""
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

BROKER_TIMEOUT = 2  # seconds: a health check must answer fast, even when the broker does not


def _database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as error:  # any failure is "down"; the type names it
        return f"error: {type(error).__name__}"
    return "ok"


def _broker() -> str:
    from config.celery_app import app

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=BROKER_TIMEOUT)
    except Exception as error:  # likewise
        return f"error: {type(error).__name__}"
    return "ok"


@never_cache
@require_GET
def healthz(request):
    checks = {"database": _database(), "broker": _broker()}
    healthy = all(value == "ok" for value in checks.values())
    return JsonResponse({"status": "ok" if healthy else "error", **checks}, status=200 if healthy else 503)

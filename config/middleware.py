"""Request-wide database transactions for writes only.

Django's ATOMIC_REQUESTS wraps every request, reads included: on SQLite (transaction_mode IMMEDIATE)
that made every page view take the database's write lock, so readers queued behind each other and
behind writers until some gave up ("database is locked"). Here a POST, PUT, PATCH or DELETE runs its
view in one transaction, rolled back when the view raises, exactly as ATOMIC_REQUESTS did; a GET or
HEAD runs in autocommit and opens no write transaction. A view may still opt out of the transaction
with `django.db.transaction.non_atomic_requests`.
"""
from django.db import transaction

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


class AtomicWritesMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.method in SAFE_METHODS or "default" in getattr(view_func, "_non_atomic_requests", ()):
            return None
        with transaction.atomic():
            return view_func(request, *view_args, **view_kwargs)

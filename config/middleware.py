"""Request-wide database transactions for writes only; request bodies past the upload limit refused unread.

Django's ATOMIC_REQUESTS wraps every request, reads included: on SQLite (transaction_mode IMMEDIATE)
that made every page view take the database's write lock, so readers queued behind each other and
behind writers until some gave up ("database is locked"). Here a POST, PUT, PATCH or DELETE runs its
view in one transaction, rolled back when the view raises, exactly as ATOMIC_REQUESTS did; a GET or
HEAD runs in autocommit and opens no write transaction. A view may still opt out of the transaction
with `django.db.transaction.non_atomic_requests`.
"""
import logging
import secrets

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.db import transaction
from django.http import HttpResponse, JsonResponse
from django.utils.cache import add_never_cache_headers

from kpi.storage import STORAGE_MESSAGE, is_storage_error

logger = logging.getLogger("jixiao.storage")

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


# --- request size ---------------------------------------------------------------------------------------
# A request body larger than the upload limit (plus the multipart overhead and the other fields) is answered
# 413 from its Content-Length alone: nothing is read, so nothing is spooled to a temporary file. Django
# reads no more than Content-Length of a WSGI body (a chunked body without one reads as empty), and the
# upload handler below stops any upload past the same ceiling should a body arrive some other way.

REQUEST_MARGIN = 1024 * 1024  # multipart boundaries, headers and the form's other fields
_MB = 1024 * 1024


def request_max_bytes() -> int:
    return settings.UPLOAD_MAX_BYTES + REQUEST_MARGIN


def _too_large(request, length: int):
    detail = (f"请求过大：{length / _MB:.1f} MB，超过上限 {request_max_bytes() / _MB:.0f} MB"
              f"（上传文件不超过 {settings.UPLOAD_MAX_BYTES // _MB} MB），未读取。")
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": detail}, status=413, json_dumps_params={"ensure_ascii": False})
    page = ('<!doctype html><html lang="zh-hans"><head><meta charset="utf-8"><title>请求过大</title></head>'
            f"<body><h1>请求过大</h1><p>{detail}</p><p>请压缩或拆分文件后重新上传。</p></body></html>")
    return HttpResponse(page, status=413, content_type="text/html; charset=utf-8")


class RequestSizeLimitMiddleware:
    """413 for a request whose declared body exceeds settings.UPLOAD_MAX_BYTES + REQUEST_MARGIN, unread."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0  # Django reads an unparsable length as no body
        if length > request_max_bytes():
            return _too_large(request, length)
        response = self.get_response(request)
        stopped = getattr(request, "upload_too_large", None)
        if stopped:  # LimitedUploadHandler stopped reading the body: the view saw no file
            return _too_large(request, stopped)
        return response


class UploadSpoolFaultMiddleware:
    """A multipart form whose files cannot be spooled to a temporary file (the disk full or read-only) is
    answered 503 with a Chinese message — before, the error surfaced in whichever middleware first read
    request.POST (CSRF) as a 500. The body is read here, once, for the page forms; the API's parsers read it
    themselves and answer through DRF's error handling."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if (request.method == "POST" and not request.path.startswith("/api/")
                and request.content_type == "multipart/form-data"):
            try:
                request.FILES  # noqa: B018 — parses the body, spooling large files to disk
            except OSError as error:
                if not is_storage_error(error):
                    raise
                logger.error("upload could not be spooled: %s", request.path, exc_info=True,
                             extra={"event": "storage_full"})
                page = ('<!doctype html><html lang="zh-hans"><head><meta charset="utf-8"><title>文件未保存'
                        f'</title></head><body><h1>文件未保存</h1><p>{STORAGE_MESSAGE}</p></body></html>')
                return HttpResponse(page, status=503, content_type="text/html; charset=utf-8")
        return self.get_response(request)


class LimitedUploadHandler(FileUploadHandler):
    """The first of FILE_UPLOAD_HANDLERS: counts the bytes of every file of a request and stops the upload
    (the files so far discarded, nothing more read) once they pass the request ceiling, so that no body,
    whatever its declared length, is spooled to disk unbounded."""

    def __init__(self, request=None):
        super().__init__(request)
        self.received = 0

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > request_max_bytes():
            if self.request is not None:
                self.request.upload_too_large = self.received
            raise StopUpload(connection_reset=True)
        return raw_data  # passed on to the next handler, which stores it

    def file_complete(self, file_size):
        return None


# --- Content-Security-Policy, Permissions-Policy ---------------------------------------------------------
# Scripts run only from our own files or from inline blocks that carry this request's nonce
# (nonce="{{ request.csp_nonce }}" in templates); no inline event handlers, nothing from another site.
# Styles may be inline (style="…" attributes on progress bars and the like).
CSP = ("default-src 'self'; script-src 'self' 'nonce-{nonce}'; style-src 'self' 'unsafe-inline'; "
       "img-src 'self' data:; object-src 'none'; base-uri 'self'; frame-ancestors 'none'; form-action 'self'")
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"


class SecurityHeadersMiddleware:
    """A fresh nonce per request (request.csp_nonce) and the Content-Security-Policy that admits it; and
    every download (any response with a Content-Disposition: exports, 自评表, evidence, error lists) marked
    Cache-Control: no-store, so that no browser or proxy keeps a copy of the unit's figures."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.csp_nonce = secrets.token_urlsafe(16)
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", CSP.format(nonce=request.csp_nonce))
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        if response.has_header("Content-Disposition"):
            add_never_cache_headers(response)
        return response

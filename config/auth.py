"""Logging in: the client's address behind the reverse proxy, and a per-address brake on password spraying.

django-axes locks one user name from one address (AXES_LOCKOUT_PARAMETERS) after a few failures, so that
nobody can lock a colleague out from elsewhere. That alone lets one client try a common password against
every account; so the login page also refuses, for a while, an address with many failures across any user
names. The limit is well above axes' own, so that an office behind one NAT address is not locked out by a
few mistyped passwords.
"""
import ipaddress
import math

from axes.helpers import get_client_ip_address, get_cool_off
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth import views as auth_views
from django.db.models import Max, Sum
from django.shortcuts import render
from django.utils import timezone


def _valid_ip(value: str) -> str | None:
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


def client_ip(request) -> str | None:
    """The client's address (AXES_CLIENT_IP_CALLABLE). With JIXIAO_PROXY_COUNT = N trusted proxies in front,
    the N-th entry of X-Forwarded-For from the right: each proxy appends the address it was reached from,
    so whatever the client itself sent stands further left and is never read. With 0 (development, or no
    proxy) X-Forwarded-For is ignored and the connection's address is used."""
    remote = request.META.get("REMOTE_ADDR")
    count = getattr(settings, "JIXIAO_PROXY_COUNT", 0)
    if count > 0:
        entries = [e for e in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if e.strip()]
        if len(entries) >= count:
            ip = _valid_ip(entries[-count])
            if ip:
                return ip
    return remote


def ip_failures(ip: str | None) -> tuple[int, int]:
    """(failed logins from this address within axes' cool-off, across all user names; minutes until that
    count falls to zero)."""
    if not ip:
        return 0, 0
    since = timezone.now() - get_cool_off()
    totals = AccessAttempt.objects.filter(ip_address=ip, attempt_time__gt=since).aggregate(
        failures=Sum("failures_since_start"), last=Max("attempt_time"))
    if not totals["failures"]:
        return 0, 0
    remaining = (totals["last"] + get_cool_off() - timezone.now()).total_seconds()
    return totals["failures"], max(1, math.ceil(remaining / 60))


class LoginView(auth_views.LoginView):
    """Django's login page; a POST from an address past JIXIAO_LOGIN_IP_FAILURE_LIMIT failures is answered
    429 without checking the password (so it records no further failure either)."""

    def post(self, request, *args, **kwargs):
        failures, minutes = ip_failures(get_client_ip_address(request))
        if failures >= settings.JIXIAO_LOGIN_IP_FAILURE_LIMIT:
            return render(request, "registration/throttled.html", {"minutes": minutes}, status=429)
        return super().post(request, *args, **kwargs)

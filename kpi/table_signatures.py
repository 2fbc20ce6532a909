"""A faster `django_tables2.utils.signature`, installed once by KpiConfig.ready for every table of the app."""
from __future__ import annotations

from types import FunctionType, MethodType
from weakref import WeakKeyDictionary

import django_tables2.utils

# django-tables2 calls every render_*/value_* through `call_with_appropriate`, which runs inspect.signature on
# the method for every cell (a tenth of the unit scorecard's time at 25 rows). A function's parameters do not change
# (a method bound or not always drops the same first one), so its answer is kept per function; anything
# else (a partial, a callable object) is still inspected each time. The library's own function computes it.
_signature = getattr(django_tables2.utils.signature, "uncached", django_tables2.utils.signature)
_signatures: dict[bool, WeakKeyDictionary] = {True: WeakKeyDictionary(), False: WeakKeyDictionary()}


def _cached_signature(fn):
    if isinstance(fn, MethodType) and isinstance(fn.__func__, FunctionType):
        cache, key = _signatures[True], fn.__func__
    elif isinstance(fn, FunctionType):
        cache, key = _signatures[False], fn
    else:
        return _signature(fn)
    try:
        return cache[key]
    except KeyError:
        cache[key] = found = _signature(fn)
        return found


def install() -> None:
    """Replace the library's signature function (idempotent: the original is kept as `.uncached`)."""
    _cached_signature.uncached = _signature
    django_tables2.utils.signature = _cached_signature

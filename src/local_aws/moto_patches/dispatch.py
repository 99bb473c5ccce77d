"""Request routing: the moto service that answers a host is looked up once, not per request.

moto 5.2.5's `DomainDispatcherApplication.get_backend_for_host` lists moto's package directory
(`os.listdir` plus an `isdir` per entry, ~170 of them) and then tries every service's URL
regexes in turn, on every request and while holding the dispatcher's global lock. Measured at
~880 µs per request on this project's 2-core machine, that was paid by every call the pipeline
makes and serialised all of them. The answer depends only on the host name (the regexes and
the package never change while the server runs), so it is remembered per host.

Once routed, `BaseResponse.call_action` lists the handler class's methods with
`inspect.getmembers` to check that the action exists, again on every request (~5 % of a small
request's cost). The classes are final once `apply_all` has run, before the first request, so
the list is kept per class.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from moto.core import responses
from moto.moto_server.werkzeug_app import DomainDispatcherApplication

_PATCHED = "_trendstream_backend_by_host"
_original_get_backend_for_host = DomainDispatcherApplication.get_backend_for_host
_original_method_names_from_class = responses.method_names_from_class  # type: ignore[attr-defined]


def get_backend_for_host(self: DomainDispatcherApplication, host: str | None) -> Any:
    # Called under the dispatcher's own lock (`get_application`), so the dict needs none.
    cache: dict[str | None, Any] = self.__dict__.setdefault(_PATCHED, {})
    if host not in cache:
        cache[host] = _original_get_backend_for_host(self, host)
    return cache[host]


@cache
def method_names_from_class(clazz: object) -> list[str]:
    # Read-only for its one caller (`if action in method_names`), so the list itself is shared.
    return _original_method_names_from_class(clazz)


def apply() -> None:
    DomainDispatcherApplication.get_backend_for_host = get_backend_for_host  # type: ignore[method-assign]
    responses.method_names_from_class = method_names_from_class  # type: ignore[attr-defined]

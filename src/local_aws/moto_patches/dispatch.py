"""Request routing: the moto service that answers a host is looked up once, not per request.

moto 5.2.5's `DomainDispatcherApplication.get_backend_for_host` lists moto's package directory
(`os.listdir` plus an `isdir` per entry, ~170 of them) and then tries every service's URL
regexes in turn, on every request and while holding the dispatcher's global lock. Measured at
~880 µs per request on this project's 2-core machine, that was paid by every call the pipeline
makes and serialised all of them. The answer depends only on the host name (the regexes and
the package never change while the server runs), so it is remembered per host.
"""

from __future__ import annotations

from typing import Any

from moto.moto_server.werkzeug_app import DomainDispatcherApplication

_PATCHED = "_trendstream_backend_by_host"
_original_get_backend_for_host = DomainDispatcherApplication.get_backend_for_host


def get_backend_for_host(self: DomainDispatcherApplication, host: str | None) -> Any:
    # Called under the dispatcher's own lock (`get_application`), so the dict needs none.
    cache: dict[str | None, Any] = self.__dict__.setdefault(_PATCHED, {})
    if host not in cache:
        cache[host] = _original_get_backend_for_host(self, host)
    return cache[host]


def apply() -> None:
    DomainDispatcherApplication.get_backend_for_host = get_backend_for_host  # type: ignore[method-assign]

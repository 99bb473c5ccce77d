"""The emulator's call log: what each request asked AWS to authorise, one JSON line per request.

With `LOCAL_AWS_CALL_LOG=<file>` the server appends, for every request it answers, who signed it
(`admin` for any key the emulator's STS did not issue, with that key's id, else the assumed
role's ARN), the request line, and
every (IAM action, resource ARN) pair the IAM patch derives for it: the calls a policy must allow,
permission-only actions (`iam:PassRole`, the log-delivery actions of API access logs) included.
A request no authorisation hook saw is logged with no calls, so a reader can tell it apart from
a call that needs no permission.

It exists to prove a policy complete: record `terraform apply`, `trendstream verify` and
`terraform destroy`, then evaluate every admin call against the deployer policy with the same
evaluation the emulator applies to role sessions (`local_aws.moto_patches.iam.evaluate`).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CALL_LOG_VARIABLE = "LOCAL_AWS_CALL_LOG"
ADMIN = "admin"
"""The principal of requests signed with the account's own key (Terraform, the CLI, the tests)."""

_IGNORED_PATH_PREFIXES = ("/moto-api",)  # the emulator's own control API, not AWS
_current = threading.local()


@dataclass(frozen=True)
class LoggedRequest:
    """One request as the call log holds it."""

    principal: str
    request: str
    calls: tuple[tuple[str, str], ...]
    key: str = ""
    """The access key id it was signed with (tells the account's callers apart)."""


def record(principal: str, calls: Iterable[tuple[str, str]], *, key: str = "") -> None:
    """Add the calls the request in flight on this thread needs (no-op when not logging)."""
    entry: dict[str, Any] | None = getattr(_current, "entry", None)
    if entry is None:
        return
    entry["principal"] = principal
    entry["key"] = key
    entry["calls"].extend([action, resource] for action, resource in calls)


def is_recording() -> bool:
    """True while a logged request is in flight on this thread."""
    return getattr(_current, "entry", None) is not None


class CallLogMiddleware:
    """WSGI middleware that writes one line per request to the call log."""

    def __init__(self, app: Callable[..., Iterable[bytes]], path: Path) -> None:
        self._app = app
        self._path = path
        self._lock = threading.Lock()
        path.parent.mkdir(parents=True, exist_ok=True)

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterator[bytes]:
        path = str(environ.get("PATH_INFO", ""))
        if path.startswith(_IGNORED_PATH_PREFIXES):
            yield from self._app(environ, start_response)
            return
        query = environ.get("QUERY_STRING", "")
        host = environ.get("HTTP_HOST", "")
        request = f"{environ.get('REQUEST_METHOD', '')} {host}{path}{'?' + query if query else ''}"
        _current.entry = {"principal": ADMIN, "request": request, "calls": []}
        try:
            # The whole body is built before the line is written and the line before the body is
            # sent: a client that has its answer finds its request in the log.
            body = list(self._app(environ, start_response))
        finally:
            entry = _current.entry
            _current.entry = None
            line = json.dumps(entry, sort_keys=True)
            with self._lock, self._path.open("a", encoding="utf-8") as log:
                log.write(line + "\n")
        yield from body


def read(path: Path, start: int = 0, end: int | None = None) -> list[LoggedRequest]:
    """The requests logged between two byte offsets taken with `size` (to the end by default)."""
    with path.open("rb") as log:
        log.seek(start)
        chunk = log.read() if end is None else log.read(end - start)
    lines = chunk.decode("utf-8").splitlines()
    requests = []
    for line in lines:
        entry = json.loads(line)
        calls = tuple((str(action), str(resource)) for action, resource in entry["calls"])
        requests.append(
            LoggedRequest(
                str(entry["principal"]), str(entry["request"]), calls, str(entry.get("key", ""))
            )
        )
    return requests


def size(path: Path) -> int:
    """The log's current end, to read only what is logged after it."""
    return path.stat().st_size if path.exists() else 0


def not_allowed(
    requests: Iterable[LoggedRequest],
    documents: Iterable[dict[str, Any]],
    *,
    key: str | None = None,
) -> list[tuple[str, str, str]]:
    """Each (action, resource, request) of the admin's requests (signed with `key`, when given)
    that the policy documents do not allow, as the emulator evaluates a role session's policies;
    a request no hook saw counts as not allowed (`?`), since what it needs is unknown."""
    from local_aws.moto_patches.iam import PolicyDecision, evaluate  # noqa: PLC0415 - moto-heavy

    policies = list(documents)
    refused: list[tuple[str, str, str]] = []
    for logged in requests:
        if logged.principal != ADMIN or (key is not None and logged.key != key):
            continue
        if not logged.calls:
            refused.append(("?", "?", logged.request))
        for action, resource in logged.calls:
            if evaluate(policies, action, resource) != PolicyDecision.ALLOW:
                refused.append((action, resource, logged.request))
    return refused

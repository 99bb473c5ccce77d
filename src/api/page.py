"""The live page and its assets, served by the API itself so the page needs no other host.

Only the files listed here are served: a name is looked up, never joined to a path. Every
response of the function, JSON included, carries ``SECURITY_HEADERS``: a Content-Security-Policy
allowing only the API's own scripts, styles and requests (the page has no inline script or
style), and ``X-Content-Type-Options: nosniff``. Swagger UI's page (Powertools) inlines its
bundle and its start-up script: its policy admits exactly those blocks by their SHA-256
(``script-src 'sha256-…'``), nothing else inline.
"""

from __future__ import annotations

import base64
import hashlib
import re
from functools import cache
from pathlib import Path
from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError

STATIC = Path(__file__).with_name("static")
_ASSETS: dict[str, tuple[str, str]] = {
    "index.html": ("index.html", "text/html; charset=utf-8"),
    "page.js": ("page.js", "text/javascript; charset=utf-8"),
    "page.css": ("page.css", "text/css; charset=utf-8"),
    "uPlot.iife.min.js": ("vendor/uplot/uPlot.iife.min.js", "text/javascript; charset=utf-8"),
    "uPlot.min.css": ("vendor/uplot/uPlot.min.css", "text/css; charset=utf-8"),
    "uPlot-LICENSE.txt": ("vendor/uplot/LICENSE", "text/plain; charset=utf-8"),
}


@cache
def _read(relative: str) -> str:
    return (STATIC / relative).read_text(encoding="utf-8")


def asset(name: str) -> Response[str]:
    """The named asset, or a 404 for any other name."""
    found = _ASSETS.get(name)
    if found is None:
        raise NotFoundError(f"no static file {name!r}")
    relative, content_type = found
    return Response(
        status_code=200,
        content_type=content_type,
        body=_read(relative),
        headers={"Cache-Control": "no-cache" if name == "index.html" else "max-age=300"},
    )


CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
}
_INLINE_BLOCK = re.compile(r"<(script|style)(?:\s[^>]*)?>(.*?)</\1>", re.DOTALL | re.IGNORECASE)


def _hash_source(block: str) -> str:
    digest = hashlib.sha256(block.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode('ascii')}'"


@cache
def policy_for(html: str) -> str:
    """The policy, widened by the hashes of the document's own inline blocks, if it has any."""
    sources: dict[str, list[str]] = {"script": [], "style": []}
    for kind, block in _INLINE_BLOCK.findall(html):
        if block.strip():
            sources[kind.lower()].append(_hash_source(block))
    policy = CONTENT_SECURITY_POLICY
    for kind, hashes in sources.items():
        if hashes:
            policy = policy.replace(f"{kind}-src 'self'", f"{kind}-src 'self' {' '.join(hashes)}")
    return policy


def with_security_headers(response: dict[str, Any]) -> dict[str, Any]:
    """A payload 2.0 response with the security headers set (its own ones replaced)."""
    headers = {
        name: value
        for name, value in (response.get("headers") or {}).items()
        if name.lower() not in {header.lower() for header in SECURITY_HEADERS}
    }
    headers.update(SECURITY_HEADERS)
    body = response.get("body")
    content_type = next(
        (str(value) for name, value in headers.items() if name.lower() == "content-type"), ""
    )
    if content_type.startswith("text/html") and isinstance(body, str) and "<script" in body:
        headers["Content-Security-Policy"] = policy_for(body)
    return {**response, "headers": headers}

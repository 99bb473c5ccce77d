"""The live page and its assets, served by the API itself so the page needs no other host.

Only the files listed here are served: a name is looked up, never joined to a path.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

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

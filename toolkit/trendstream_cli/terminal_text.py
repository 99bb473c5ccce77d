"""Text from the data (tweets, query results) made safe to print on a terminal.

A tweet is anyone's text: an escape sequence in it (ESC `[2J`, an OSC 8 hyperlink, a title
change), a carriage return or a bidirectional override would act on the operator's terminal
instead of being shown. Every such character is printed as a visible escape (`\\x1b`, `\\r`,
`\\u202e`), so what a command shows is what the data holds; line breaks and tabs stay as they are.
"""

from __future__ import annotations

import re

_BIDI_CONTROLS = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
_INVISIBLE = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f{_BIDI_CONTROLS}]")


def visible(text: str) -> str:
    """`text` with every control character (C0 but newline and tab, DEL, C1) and bidirectional
    control shown as its Python escape."""
    return _INVISIBLE.sub(_escape, text)


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def json_visible(json_text: str) -> str:
    """JSON text with those characters as JSON `\\u` escapes: the same data once parsed (JSON
    escapes C0 itself, not DEL, C1 or the bidirectional controls), nothing raw on a terminal."""
    return _INVISIBLE.sub(lambda match: f"\\u{ord(match.group()):04x}", json_text)

"""Text the ``ffnn`` command prints: control characters from files made visible.

Class names, feature names, layer names, metadata and error messages that quote a file
come from files that may be hostile. Printed raw, a terminal escape sequence in them
could retitle the window, clear the screen or overwrite earlier lines, and a Unicode
direction override could make text read differently from what it is. :func:`printable`
shows each such character as a Python-style escape (``\\x1b``, ``\\u202e``) instead.
"""

from __future__ import annotations

import unicodedata

__all__ = ["printable"]

#: Unicode categories escaped: controls (C0, DEL, C1), format characters (direction
#: overrides, zero-width characters), line and paragraph separators, lone surrogates.
_ESCAPED = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs"})
_NAMED = {"\t": "\\t", "\r": "\\r", "\n": "\\n"}


def _escape(ch: str) -> str:
    if ch in _NAMED:
        return _NAMED[ch]
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else (
        f"\\U{code:08x}")


def printable(text: str, keep_newlines: bool = False) -> str:
    """``text`` with every control, format and separator character escaped.

    Parameters
    ----------
    text : str
    keep_newlines : bool, default False
        Keep ``"\\n"`` as a line break (for multi-line output); otherwise it is escaped
        too, so the result is one line.
    """
    if text.isprintable() and (keep_newlines or "\n" not in text):
        return text  # the common case, checked in C
    return "".join(
        _escape(ch) if unicodedata.category(ch) in _ESCAPED and not (
            keep_newlines and ch == "\n") else ch
        for ch in text
    )

"""Text from outside (a pack, a deck, a CSV, a model's or a data set's description) made
harmless to show: every character that a terminal or a browser would act on instead of
showing is written as a visible escape, so nothing can erase a line, recolour, retitle the
terminal, add a line of its own or reorder what follows it."""

from __future__ import annotations

import unicodedata

# Control (C0, DEL, C1), format (bidirectional overrides and isolates, zero-width marks,
# tag characters), lone surrogates and the line and paragraph separators.
_HIDDEN = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
# The zero-width non-joiner and joiner shape Persian, Indic scripts and emoji sequences and
# reorder or hide nothing.
_KEPT = frozenset({"\u200c", "\u200d"})


def _escape(character: str) -> str:
    code = ord(character)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def visible_text(text: object) -> str:
    """`text` with every control, format, surrogate or separator character (a newline and a
    tab included) written as its escape (`\\x1b`, `\\u202e`): one line, shown as it is."""
    text = str(text)
    if text.isprintable():  # the common case: nothing to escape (isprintable() is False for all of them)
        return text
    return "".join(_escape(ch) if unicodedata.category(ch) in _HIDDEN and ch not in _KEPT else ch for ch in text)

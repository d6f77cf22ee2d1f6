"""The one exception type whose message is written for the person using the tool, and the
one function that turns any error into a line that is safe to show."""

from __future__ import annotations

import re

from core.text import visible_text

# An absolute path (or ~/...) of two or more components: shown by its last component only.
_PATH = re.compile(r"(?<![\w:/.])(?:~/|/)(?:[^\s/'\"`,;:()\[\]{}<>]+/)*([^\s/'\"`,;:()\[\]{}<>]*)")
MAX_MESSAGE = 400


class UserError(Exception):
    """Bad input or a missing asset. The message names the problem and what to do about it;
    the CLI prints it and the dashboard shows it, never a traceback."""


def short_path(text: str) -> str:
    """`text` with every absolute path shortened to its last component, so a message never
    shows where the server keeps its files."""
    return _PATH.sub(lambda match: match.group(1) or "…", text)


def public_message(error: BaseException) -> str:
    """One line for any error: a UserError's own message, or the error's type and first
    line for anything else; paths shortened to names, control characters shown as escapes
    (core.text), length capped."""
    text = str(error).strip()
    if not isinstance(error, UserError):
        first = text.splitlines()[0] if text else ""
        text = f"Unexpected {type(error).__name__}" + (f": {first}" if first else "")
    text = visible_text(" ".join(short_path(text).split()))
    return text if len(text) <= MAX_MESSAGE else text[: MAX_MESSAGE - 1] + "…"

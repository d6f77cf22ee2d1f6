"""What a server lets a run ask for: the owner's own machine takes any setting within its
bounds; a shared one (a server open to a room) caps the costly ones, loads no files or
folders of its own, runs no remote code and stops a run after a time limit."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    """`shared`: each setting's shared-mode cap applies and nothing names a server path.
    `work_seconds`: the longest one run may take. `text_chars`: the longest free text
    (a completion, a data set's column name) a visitor's link or form may give."""

    shared: bool = False
    work_seconds: float | None = None
    text_chars: int | None = None


OWNER = Limits()
# 20 minutes: nobody occupies the machine for an hour; 200 characters: any real completion or column name.
SHARED = Limits(shared=True, work_seconds=20 * 60, text_chars=200)

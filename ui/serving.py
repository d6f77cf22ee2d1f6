"""The dashboard's serving mode and this browser session's upload folder."""

from __future__ import annotations

import shutil
import tempfile
import weakref
from pathlib import Path

import streamlit as st

from core.data import default_uploads
from core.serving import is_shared

UPLOADS_KEY = "session_uploads"


def shared() -> bool:
    """True when this server is open beyond localhost or was started in shared mode."""
    return is_shared(st.get_option("server.address"))


class SessionFolder:
    """A private temporary folder (mode 0700) that is deleted when this object is: with
    its browser session's state, or when the server exits."""

    def __init__(self):
        self.path = Path(tempfile.mkdtemp(prefix="ccs-lab-session-"))
        self._cleanup = weakref.finalize(self, shutil.rmtree, str(self.path), True)


def uploads_folder() -> Path:
    """Where this session's CSV uploads go: the owner's upload folder in the cache, or, on
    a shared server, a folder of this browser session's own that goes with it."""
    if not shared():
        return default_uploads()
    if UPLOADS_KEY not in st.session_state:
        st.session_state[UPLOADS_KEY] = SessionFolder()
    return st.session_state[UPLOADS_KEY].path

"""The dashboard's serving mode and this browser session's upload folder.

Local or shared: `make run` serves its owner on localhost; `make serve` opens it to a
network in shared mode (core.settings.validate's caps, no server paths, no remote code,
uploads per browser session)."""

from __future__ import annotations

import ipaddress
import os
import shutil
import tempfile
import weakref
from pathlib import Path

import streamlit as st

from core.data.uploads import default_uploads
from core.settings.limits import OWNER, SHARED, Limits

UPLOADS_KEY = "session_uploads"
SHARED_ENV = "CCS_LAB_SHARED"


def is_loopback(address: str | None) -> bool:
    """Whether a server address only accepts connections from this machine."""
    if not address:
        return False  # Streamlit's default (no address) listens on every interface
    if address == "localhost":
        return True
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def is_shared(server_address: str | None) -> bool:
    """Shared mode: asked for ($CCS_LAB_SHARED=1), or implied by a server that listens
    beyond this machine, so opening the port never exposes the owner's mode."""
    return os.environ.get(SHARED_ENV) == "1" or not is_loopback(server_address)


def shared() -> bool:
    """True when this server is open beyond localhost or was started in shared mode."""
    return is_shared(st.get_option("server.address"))


def limits() -> Limits:
    """What this server lets a run ask for (core.settings.limits)."""
    return SHARED if shared() else OWNER


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

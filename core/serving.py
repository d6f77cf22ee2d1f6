"""Local or shared: how the dashboard is being served. `make run` serves its owner on
localhost; `make serve` opens it to a network in shared mode (core.validate's caps, no
server paths, no remote code, uploads per browser session)."""

from __future__ import annotations

import ipaddress
import os

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

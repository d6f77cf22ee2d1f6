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


# The longest one visitor's run may take on a shared server (extraction and training
# together), so nobody occupies the machine for an hour.
SHARED_WORK_SECONDS = 20 * 60


def with_deadline(progress, started: float, seconds: float = SHARED_WORK_SECONDS):
    """`progress` (a (done, total, message) callback or None) that raises a UserError once
    `seconds` have passed since `started` (time.monotonic); every long loop reports
    progress, so the run stops there and nothing partial is cached."""
    import time

    from core.errors import UserError

    def report(done: int, total: int, message: str) -> None:
        if time.monotonic() - started > seconds:
            raise UserError(f"This shared server stops a run after {seconds / 60:.0f} minutes; ask for fewer "
                            "examples, seeds or epochs, or a smaller model.")
        if progress is not None:
            progress(done, total, message)

    return report

"""Where the lab keeps its cache (converted models, activation sets, sweep results)."""

from __future__ import annotations

import os
from pathlib import Path

CACHE_ENV = "CCS_LAB_CACHE"


def cache_root() -> Path:
    """The cache directory: $CCS_LAB_CACHE, else $XDG_CACHE_HOME/ccs-imbalance-lab, else
    ~/.cache/ccs-imbalance-lab. Created on first use."""
    if os.environ.get(CACHE_ENV):
        root = Path(os.environ[CACHE_ENV]).expanduser()
    else:
        base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
        root = Path(base) / "ccs-imbalance-lab"
    root.mkdir(parents=True, exist_ok=True)
    return root

"""Progress bars with an ETA, as (done, total, message) callbacks that core accepts."""

from __future__ import annotations

import time

import streamlit as st


def progress_callback(label: str):
    """A callback that draws a progress bar under `label` with elapsed time and ETA."""
    bar = st.progress(0.0, text=label)
    started = time.perf_counter()

    def update(done: int, total: int, message: str) -> None:
        fraction = min(1.0, done / max(total, 1))
        elapsed = time.perf_counter() - started
        eta = f", about {elapsed / fraction - elapsed:.0f} s left" if 0.02 < fraction < 1 else ""
        bar.progress(fraction, text=f"{label}: {message} ({elapsed:.0f} s{eta})")

    return update

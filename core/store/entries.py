"""What every content-addressed store shares: keys (sha256 of canonical JSON), xxh3
checksums, a lock per key across processes, atomic publishing of a finished entry, and
quarantine for one that fails its check.

Nothing here is pickled. Every entry is written into a temporary folder and renamed into
place in one step, so a crash or a concurrent writer never leaves a half-written entry
under a key. A corrupt, truncated or incomplete entry is moved aside into `.quarantine/`
with a one-line message (CorruptEntry) and its key is free to be recomputed; it is never
used. Two processes asking for the same key take a lock (`key_lock`): one computes, the
other waits and loads.
"""

from __future__ import annotations

import os
import shutil
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import xxhash
from filelock import FileLock, Timeout

from core.config import config_hash
from core.errors import UserError

STALE_TEMP_SECONDS = 24 * 3600
QUARANTINE = ".quarantine"
READ_CHUNK = 16 * 1024 * 1024
CHECKSUM_NOTE = "xxh3-128 per block"


class CorruptEntry(UserError):
    """A cache entry failed its check; it has been moved aside and will be recomputed."""


def digest(data: bytes | memoryview) -> str:
    """The checksum recorded for every stored block (xxh3-128: fast enough to verify a
    loaded layer at disk speed)."""
    return xxhash.xxh3_128_hexdigest(data)


def file_digest(path: Path) -> str:
    hasher = xxhash.xxh3_128()
    with open(path, "rb") as handle:
        while chunk := handle.read(READ_CHUNK):
            hasher.update(chunk)
    return hasher.hexdigest()


def read_exact(handle, offset: int, length: int) -> bytes:
    data = os.pread(handle.fileno(), length, offset)
    if len(data) != length:
        raise ValueError(f"file ends {length - len(data)} bytes early")
    return data


def error_reason(error: Exception) -> str:
    """The first line of an error, short, for a quarantine message."""
    return str(error).splitlines()[0][:120] if str(error) else type(error).__name__


def quarantine(root: Path, key: str, reason: str) -> CorruptEntry:
    """Move the entry under `key` aside (never delete: it may be evidence) and return the
    error to raise. Its key is then free, so the next run recomputes it."""
    folder = root / key
    if folder.exists():
        target = root / QUARANTINE / f"{key}-{time.time_ns()}"
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            folder.rename(target)
        except OSError:
            shutil.rmtree(folder, ignore_errors=True)
    kind = "activation set" if root.name == "activations" else "sweep result"
    return CorruptEntry(
        f"The cached {kind} {key[:12]}… failed its check ({reason}); it was set aside and will be recomputed."
    )


@contextmanager
def key_lock(root: Path, key: str, on_wait=None):
    """Hold an exclusive lock on `key` across processes and threads (filelock's OS lock on a
    lock file, which the OS releases if the holder dies). `on_wait()` is called once if
    another holder makes this one wait."""
    folder = root / ".locks"
    folder.mkdir(parents=True, exist_ok=True)
    # Kept on release: unlinking a lock file another process waits on would let a third take a new one.
    lock = FileLock(folder / f"{key}.lock", thread_local=False, fallback_to_soft=False, preserve_lock_file=True)
    try:
        lock.acquire(blocking=False)
    except Timeout:
        if on_wait is not None:
            on_wait()
        lock.acquire()
    try:
        yield
    finally:
        lock.release()


def content_key(identity: dict[str, Any]) -> str:
    """The cache key of anything: sha256 of its canonical JSON."""
    return config_hash(identity)


def publish(staging: Path, target: Path, complete) -> None:
    """Rename a finished staging folder to its key. If another writer got there first,
    keep theirs (same key, same content) and drop ours; an incomplete folder in the way
    (say, its metadata lost) is quarantined instead of blocking the key forever."""
    for _attempt in range(2):
        try:
            staging.rename(target)
            return
        except OSError:
            if not target.exists():
                raise
            if complete(target.name):
                shutil.rmtree(staging, ignore_errors=True)
                return
            quarantine(target.parent, target.name, "incomplete")
    shutil.rmtree(staging, ignore_errors=True)


def remove_stale_staging(root: Path) -> None:
    now = time.time()
    for path in root.glob(".tmp-*"):
        try:
            if now - path.stat().st_mtime > STALE_TEMP_SECONDS:
                shutil.rmtree(path, ignore_errors=True)
        except OSError:
            pass


def folder_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())

"""What a name in a config can be: a Hugging Face id, a content digest or an absolute path.
Cheap predicates that the loaders, the checks and links share, so a hub id is never read
as a folder of the machine that serves the lab; and the digest that names a file's content.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

_HUB_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,95}(/[A-Za-z0-9][A-Za-z0-9._-]{0,95})?$")
_DIGEST = re.compile(r"^[0-9a-f]{64}$")


def is_hub_id(text: str) -> bool:
    """A Hugging Face repository id ("name" or "owner/name"), which never names a path."""
    return isinstance(text, str) and bool(_HUB_ID.match(text)) and ".." not in text and "--" not in text


def is_digest(text: str) -> bool:
    """A sha256 hex digest: how uploads and links name CSV data, by content."""
    return isinstance(text, str) and bool(_DIGEST.match(text))


def file_digest(path: Path) -> str:
    """The sha256 hex digest of a file's bytes, read in chunks (a model's GGUF file, a pack)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(1 << 22):
            digest.update(block)
    return digest.hexdigest()


def is_local_path(text: str) -> bool:
    """An absolute path: the only way a config names a file or folder (the CLI and the
    owner's dashboard resolve relative ones), so a hub id is never read as a folder."""
    return isinstance(text, str) and Path(text).is_absolute()


def local_or_id(text: str) -> str:
    """What the owner typed for a model or dataset: a path that exists here, made absolute
    (configs name local files only by absolute paths), or the text as it is (a hub id)."""
    path = Path(text).expanduser()
    return str(path.resolve()) if text and path.exists() else text

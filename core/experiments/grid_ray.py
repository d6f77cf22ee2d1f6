"""The Ray executor of an experiment grid (core.experiments.grid): each extraction is a Ray task (one
GPU each where the cluster has GPUs), each sweep a CPU task that waits for its
extraction, all reading and writing the same content-addressed cache, which must be on
storage every node sees (CCS_LAB_CACHE). Tasks pass keys and configs as JSON, never
results: the driver reads every table from the cache, so the CSV is built exactly as the
in-process executor builds it.

Ray is optional: `pip install -r requirements-ray.txt` (`make test` installs it).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

import pandas as pd

from core.config import ExtractConfig, ProgressFn, from_dict, to_jsonable
from core.errors import UserError
from core.experiments.grid import Grid
from core.experiments.grid_run import GridCell, GridOutcome, run_grid_sweep, tag
from core.experiments.sweep import load_sweep
from core.extraction.extract import extract
from core.extraction.runtime import Runtime
from core.paths import cache_root
from core.settings.sweep import SweepConfig
from core.store.activations import ActivationStore
from core.store.sweeps import SweepStore

REPO = Path(__file__).resolve().parents[2]  # the folder that holds core/, for the workers
# Passed on to the workers, so they find the same cache, assets and offline settings.
FORWARDED_ENV = ("CCS_LAB_CACHE", "CCS_LAB_ASSETS", "HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "HF_HOME")
# How long a named Ray cluster may take to answer a connection before the grid gives up.
RAY_CONNECT_TIMEOUT_S = 5.0
# How long a driver waits to join it once it answers (Ray's own default is about 20 s).
RAY_JOIN_WINDOW_S = 5
RAY_JOIN_WINDOW_ENV = "RAY_gcs_server_port_wait_time_s"  # Ray's own name for it
ADDRESS_OPTION = "--ray-address"  # the grid command's option, named by these messages too
RAY_JOIN_TIMEOUT_S = 15  # importing Ray and joining, at most: with the connect check, under 30 s in all


def _extract_remote(config_json: dict, device: str, threads: int) -> dict:
    import torch

    # Ray gives a worker one intra-op thread; the driver's count makes the forward passes
    # the in-process executor's, down to the last bit of the hidden states.
    torch.set_num_threads(threads)
    outcome = extract(from_dict(ExtractConfig, config_json), Runtime(device=device))
    return {"key": outcome.key, "cached": outcome.cached}


def _sweep_remote(extracted: dict, sweep_json: dict, device: str) -> dict:
    result, cached = run_grid_sweep(extracted["key"], from_dict(SweepConfig, sweep_json), Runtime(device=device))
    return {"key": result.key, "cached": cached}


def check_ray_address(address: str | None, timeout: float = RAY_CONNECT_TIMEOUT_S) -> None:
    """A UserError in seconds, one line, unless the Ray cluster at `address` (host:port or
    ray://host:port) answers a TCP connection within `timeout` and a driver can join it;
    nothing to check without an address (a local Ray is started) or for "auto" (Ray finds
    the local one and says so itself)."""
    if not address or address == "auto":
        return
    parsed = urlparse(address if "://" in address else f"ray://{address}")
    try:
        host, port = parsed.hostname, parsed.port
    except ValueError:
        host = port = None
    if not host or not port:
        raise UserError(f"{ADDRESS_OPTION} {address!r} is not host:port or ray://host:port.")
    try:
        socket.create_connection((host, port), timeout=timeout).close()
    except OSError as error:
        reason = "no answer" if isinstance(error, TimeoutError) else (error.strerror or type(error).__name__)
        raise UserError(
            f"The Ray cluster at {address} does not answer ({reason} within {timeout:g} s); start it with "
            f"`ray start --head`, or leave {ADDRESS_OPTION} out to start a local one."
        ) from None
    # Something answers; whether it is a Ray cluster a driver can join is asked in a process of
    # its own, with Ray's connect window cut to RAY_JOIN_WINDOW_S, so its retries and its own log
    # lines stay out of this one and a port that is not Ray's fails in seconds with one line.
    join = "import ray, sys; ray.init(address=sys.argv[1], include_dashboard=False); ray.shutdown()"
    window = os.environ.get(RAY_JOIN_WINDOW_ENV, str(RAY_JOIN_WINDOW_S))
    try:
        joined = (
            subprocess.run(
                [sys.executable, "-c", join, address],
                capture_output=True,
                env={**os.environ, RAY_JOIN_WINDOW_ENV: window},
                timeout=RAY_JOIN_TIMEOUT_S,
            ).returncode
            == 0
        )
    except subprocess.TimeoutExpired:  # it answers a connection and then says nothing
        joined = False
    if not joined:
        raise UserError(
            f"{address} answers, but not as a Ray cluster this driver can join (tried for at most "
            f"{RAY_JOIN_TIMEOUT_S} s); check the address, or leave {ADDRESS_OPTION} out to start a local one."
        )


def _start(ray, address: str | None) -> None:
    env = {name: os.environ[name] for name in FORWARDED_ENV if name in os.environ}
    env["CCS_LAB_CACHE"] = str(cache_root())
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])])
    options = {
        "runtime_env": {"env_vars": env},
        "include_dashboard": False,
        "log_to_driver": False,
        "configure_logging": False,
    }
    try:
        if address:
            ray.init(address=address, **options)
        else:
            ray.init(num_cpus=os.cpu_count() or 1, **options)
    except (ConnectionError, RuntimeError) as error:
        where = f"the Ray cluster at {address}" if address else "a local Ray"
        raise UserError(f"Could not start the grid on {where}: {str(error).splitlines()[0][:200]}") from None


def run_on_ray(
    grid: Grid, address: str | None = None, device: str = "auto", progress: ProgressFn | None = None
) -> GridOutcome:
    """The grid as Ray tasks, on the cluster at `address` or a local Ray started here."""
    try:
        import ray
    except ImportError:
        raise UserError(
            "The ray executor needs Ray: pip install -r requirements-ray.txt (make test installs it)."
        ) from None
    started = time.perf_counter()
    report = progress or (lambda done, total, message: None)
    _start(ray, address)
    try:
        import torch

        resources = ray.cluster_resources()
        threads = max(1, min(torch.get_num_threads(), int(resources.get("CPU", 1))))
        extract_task = ray.remote(num_cpus=threads, num_gpus=1 if resources.get("GPU", 0) else 0)(_extract_remote)
        sweep_task = ray.remote(num_cpus=1)(_sweep_remote)
        extracted = [extract_task.remote(to_jsonable(e.config), device, threads) for e in grid.extractions]
        jobs = []  # (extraction index, sweep config, its task)
        for index, reference in enumerate(extracted):
            layers = grid.extractions[index].layers
            if layers is None:  # every layer the set holds: known once it exists
                layers = tuple(ActivationStore().meta(ray.get(reference)["key"])["layers"])
            jobs += [
                (index, sweep, sweep_task.remote(reference, to_jsonable(sweep), device))
                for sweep in grid.sweeps(layers)
            ]
        pending = [task for _, _, task in jobs]
        while pending:
            _, pending = ray.wait(pending, num_returns=1)
            report(len(jobs) - len(pending), len(jobs), "sweeps on Ray")
        done, swept = ray.get(extracted), ray.get([task for _, _, task in jobs])
    finally:
        ray.shutdown()
    outcome = GridOutcome(pd.DataFrame(), executor="ray")
    outcome.extracted = sum(not e["cached"] for e in done)
    outcome.extractions_cached = len(done) - outcome.extracted
    outcome.swept = sum(not s["cached"] for s in swept)
    outcome.sweeps_cached = len(swept) - outcome.swept
    outcome.cells = [GridCell(grid.extractions[index], done[index]["key"], sweep) for index, sweep, _ in jobs]
    store = SweepStore()
    outcome.table = pd.concat(
        [
            tag(load_sweep(store, result["key"], sweep, done[index]["key"]).table, grid.extractions[index])
            for (index, sweep, _), result in zip(jobs, swept)
        ],
        ignore_index=True,
    )
    outcome.seconds = time.perf_counter() - started
    return outcome

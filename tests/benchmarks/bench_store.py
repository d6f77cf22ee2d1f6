"""What checking a cache entry on load costs: a verified load (every block read is hashed
and compared) against an unverified read of the same blocks with safetensors, for the
demo's activation set and for a synthetic 2.8 GB set (20,000 examples, 31 layers, hidden
576, float32). Reads come from the page cache (the files were just written or read), so
the ratio shows the hashing itself; a cold read is bound by the disk for both."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import numpy as np
import torch
from safetensors import safe_open

from core.extraction.extract import activation_key
from core.settings.presets import DEMO
from core.store.activations import ACTIVATIONS_FILE, ActivationStore
from core.store.entries import content_key
from tests.benchmarks.common import bench_line, demo_layer, timed

BIG = {"n": 20_000, "layers": 31, "hidden": 576}


def unverified_read(store: ActivationStore, key: str, positions: list[int]) -> torch.Tensor:
    with safe_open(str(store.path(key) / ACTIVATIONS_FILE), framework="pt") as handle:
        pos, neg = handle.get_slice("pos"), handle.get_slice("neg")
        return torch.stack([pos[i] for i in positions] + [neg[i] for i in positions])


def compare(name: str, store: ActivationStore, key: str, layers: list[int] | None) -> str:
    stored = store.meta(key)["layers"]
    positions = [stored.index(layer) for layer in (layers or stored)]
    unverified_read(store, key, positions)  # warm the page cache for both sides
    times: dict[str, float] = {}
    for attempt in range(2):  # the faster of two runs each, one result in memory at a time
        with timed(times, f"verified{attempt}"):
            verified = store.load(key, layers=layers)
        first = torch.cat([verified.pos[:1], verified.neg[-1:]])
        del verified
        with timed(times, f"plain{attempt}"):
            plain = unverified_read(store, key, positions)
        agree = float((first - torch.cat([plain[:1], plain[-1:]])).abs().max())
        del plain
    times = {name: min(times[f"{name}0"], times[f"{name}1"]) for name in ("verified", "plain")}
    size = (store.path(key) / ACTIVATIONS_FILE).stat().st_size
    print(
        f"{name}: file {size / 1e9:.2f} GB; verified load {times['verified']:.3f} s, unverified safetensors read "
        f"{times['plain']:.3f} s ({len(positions)} of {len(stored)} layers)",
        flush=True,
    )
    return bench_line(name, times["plain"] / times["verified"], f"{agree:.1e}")


def hashing_rate() -> str:
    """The checksum alone: xxh3-128 over 1 GB in memory."""
    from core.store.entries import digest

    data = np.random.default_rng(0).bytes(1 << 30)
    times: dict[str, float] = {}
    with timed(times, "hash"):
        digest(data)
    print(f"xxh3-128 checksum: {1 / times['hash']:.1f} GB/s in memory", flush=True)
    return f"BENCH checksum_rate {1 / times['hash']:.1f} GB/s"


def write_big(store: ActivationStore) -> tuple[str, float]:
    """A synthetic activation set of BIG's size, written as an extraction writes it; returns
    its key and the seconds its commit took (the read-back that records the checksums)."""
    key = content_key({"kind": "bench", **BIG})
    layers = tuple(range(BIG["layers"]))
    writer = store.begin(key, BIG["n"], layers, BIG["hidden"], "float32")
    generator = torch.Generator().manual_seed(0)
    for rows in np.array_split(np.arange(BIG["n"]), 20):
        block = torch.randn(len(layers), len(rows), BIG["hidden"], generator=generator)
        writer.write(rows, block, -block)
    times: dict[str, float] = {}
    with timed(times, "commit"):
        writer.commit(
            np.zeros(BIG["n"], dtype=np.int8),
            [f"text {i}" for i in range(BIG["n"])],
            [str(i) for i in range(BIG["n"])],
            {"layers": list(layers), "created": 0.0},
        )
    return key, times["commit"]


def main() -> list[str]:
    print("\n== cache verification ==", flush=True)
    demo_layer()  # extracts the demo set if it is not cached
    store = ActivationStore()
    demo_key = activation_key(DEMO[0])
    lines = [
        hashing_rate(),
        compare("verify_demo_layer", store, demo_key, [DEMO[1].layer]),
        compare("verify_demo_all", store, demo_key, None),
    ]
    folder = Path(tempfile.mkdtemp(prefix="ccs-bench-store-"))
    try:
        big = ActivationStore(folder)
        key, commit_seconds = write_big(big)
        print(f"2.8 GB set: checksums recorded at commit in {commit_seconds:.1f} s", flush=True)
        lines += [compare("verify_2.8GB_layer", big, key, [23]), compare("verify_2.8GB_all", big, key, None)]
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return lines


if __name__ == "__main__":
    for line in main():
        print(line)

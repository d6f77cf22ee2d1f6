"""Extraction benchmarks on the bundled model: prefix-shared pairs against plain batched
pairs (each at its best batch size on this CPU: the plain path is fastest at 16
sequences, the prefix-shared one at 64) and against one prompt at a time the way the
reference repository's notebook does it (the causal-LM model, batch size one; without
its appended EOS token, so that the hidden states are comparable), same examples, with
the largest hidden-state difference; the decoder stopped at the middle and at 75% depth
against running every block for the same one layer; then the memory of a streamed
20,000-example all-layer write."""

from __future__ import annotations

import resource
import tempfile
from pathlib import Path

import numpy as np
import torch
from transformers import AutoModelForCausalLM

from core.config import ModelSpec, Template
from core.data.loaders import load_bundled
from core.data.prompts import render_pair
from core.data.sampling import balanced_subset
from core.extraction.extract import DEFAULT_CPU_BATCH
from core.extraction.forward import (
    pair_batches,
    pair_states,
    pair_states_plain,
    pair_states_shared_prefix,
    tokenize,
)
from core.extraction.models import load_model
from core.models import OFFLINE_MODELS
from core.models.convert import converted_model_dir
from core.models.depth import resolve_layer
from core.store.activations import ActivationStore
from tests.benchmarks.common import bench_line, device_line, timed

PAIRS = 160
STREAM_EXAMPLES = 20_000


def run_batches(function, loaded, pairs, layers, batch_size):
    pos, neg = (
        torch.empty(len(layers), len(pairs), loaded.hidden_size),
        torch.empty(len(layers), len(pairs), loaded.hidden_size),
    )
    for rows in pair_batches(pairs, batch_size):
        pos[:, rows], neg[:, rows] = function(loaded, [pairs[r] for r in rows], layers)
    return pos, neg


PLAIN_BATCH = 16


def one_at_a_time(model, pairs, layers):
    """The reference repository's way: every prompt on its own through the causal LM
    (logits included), batch size one, hidden states read at the last token."""

    def states(ids):
        with torch.inference_mode():
            hidden = model(torch.tensor([ids]), output_hidden_states=True).hidden_states
        return torch.stack([hidden[layer][0, -1] for layer in layers])

    return (torch.stack([states(p) for p, _ in pairs], 1), torch.stack([states(n) for _, n in pairs], 1))


def anonymous_rss_mb() -> float:
    """Resident anonymous memory of this process (MB): what holding data in RAM costs,
    unlike file pages of a memory map, which the kernel can drop at any time."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("RssAnon:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def streamed_write(layers: int, dim: int) -> str:
    """Write STREAM_EXAMPLES examples of all layers through the store in extraction-sized batches."""
    store = ActivationStore(Path(tempfile.mkdtemp(prefix="ccs-bench-")))
    before = anonymous_rss_mb()
    writer = store.begin("0" * 64, STREAM_EXAMPLES, tuple(range(layers)), dim)
    generator = torch.Generator().manual_seed(0)
    peak = before
    step = DEFAULT_CPU_BATCH // 2
    for start in range(0, STREAM_EXAMPLES, step):
        rows = np.arange(start, min(start + step, STREAM_EXAMPLES))
        batch = torch.randn(layers, len(rows), dim, generator=generator)
        writer.write(rows, batch, batch)
        peak = max(peak, anonymous_rss_mb())
    writer.commit(
        np.zeros(STREAM_EXAMPLES, dtype=np.int8),
        [""] * STREAM_EXAMPLES,
        [""] * STREAM_EXAMPLES,
        {"layers": list(range(layers))},
    )
    size_gb = sum(f.stat().st_size for f in store.path("0" * 64).iterdir()) / 1e9
    store.delete("0" * 64)
    process_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return (
        f"streamed write of {STREAM_EXAMPLES:,} examples x {layers} layers x {dim} (float32, both sides): "
        f"{size_gb:.2f} GB on disk; resident anonymous memory {before:.0f} MB before, peak {peak:.0f} MB "
        f"during; process peak RSS so far (model included) {process_peak:.0f} MB"
    )


def stopped_early(loaded, pairs, depth: str) -> str:
    """One layer extracted with the decoder stopped there, against every block run (the
    reference: a cut past the last block runs them all), same pairs, prefix-shared."""
    layer = resolve_layer(depth, loaded.num_hidden_states)
    times: dict = {}
    with timed(times, "stopped"):
        stopped = run_batches(pair_states, loaded, pairs, [layer], DEFAULT_CPU_BATCH)
    every_block = [layer, loaded.num_hidden_states - 1]  # the last layer makes every block run
    with timed(times, "whole"):
        whole = run_batches(pair_states, loaded, pairs, every_block, DEFAULT_CPU_BATCH)
    diff = max((stopped[i][0] - whole[i][0]).abs().max().item() for i in (0, 1))
    print(
        f"layer {layer} ({depth}): decoder stopped there {times['stopped']:.1f} s; every block run "
        f"{times['whole']:.1f} s; max |difference| {diff:.1e}"
    )
    return bench_line(f"extract_stop_{depth.rstrip('%')}", times["whole"] / times["stopped"], f"{diff:.1e}")


def main() -> list[str]:
    print("== extraction ==", flush=True)
    print(device_line())
    loaded = load_model(ModelSpec())
    data = load_bundled()
    chosen = balanced_subset(data.labels, PAIRS, seed=1)
    ids = tokenize(loaded.tokenizer, [side for i in chosen for side in render_pair(Template(), data.texts[i])])
    pairs = [(ids[2 * k], ids[2 * k + 1]) for k in range(PAIRS)]
    layers = list(range(loaded.num_hidden_states))
    print(
        f"{PAIRS} demo pairs (mean {np.mean([len(p) for p, _ in pairs]):.1f} tokens), all {len(layers)} hidden "
        f"states; plain batches of {PLAIN_BATCH} sequences, prefix-shared batches of {DEFAULT_CPU_BATCH}"
    )
    times: dict = {}
    with timed(times, "plain"):
        plain = run_batches(pair_states_plain, loaded, pairs, layers, PLAIN_BATCH)
    with timed(times, "prefix"):
        shared = run_batches(pair_states_shared_prefix, loaded, pairs, layers, DEFAULT_CPU_BATCH)
    causal_lm = AutoModelForCausalLM.from_pretrained(converted_model_dir(OFFLINE_MODELS["bundled"])).eval()
    with timed(times, "single"):
        single = one_at_a_time(causal_lm, pairs, layers)
    prefix_diff = max((shared[i] - plain[i]).abs().max().item() for i in (0, 1))
    single_diff = max((shared[i] - single[i]).abs().max().item() for i in (0, 1))
    scale = plain[0].abs().max().item()
    print(
        f"plain batched pairs {times['plain']:.1f} s; prefix-shared {times['prefix']:.1f} s; one prompt at a "
        f"time {times['single']:.1f} s"
    )
    print(
        f"max |hidden-state difference|: prefix-shared vs plain {prefix_diff:.2e}, prefix-shared vs one at a "
        f"time {single_diff:.2e} (largest hidden-state value {scale:.0f})"
    )
    truncation = [stopped_early(loaded, pairs, depth) for depth in ("middle", "75%")]
    print(streamed_write(len(layers), loaded.hidden_size))
    lines = [
        bench_line("extract_prefix", times["plain"] / times["prefix"], f"{prefix_diff:.1e}"),
        bench_line("extract_vs_single", times["single"] / times["prefix"], f"{single_diff:.1e}"),
        *truncation,
    ]
    for line in lines:
        print(line, flush=True)
    return lines


if __name__ == "__main__":
    main()

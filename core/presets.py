"""Named starting points for the CLI and the dashboard."""

from __future__ import annotations

from core.config import CCSConfig, ExtractConfig, SweepConfig

# The offline demo: bundled SmolLM2-135M-Instruct, 1,600 Rotten Tomatoes snippets (800
# per class) with the Burns-style template, all layers extracted; the sweep reads
# hidden state 23 of 30 (a middle-to-late layer), trains on 400 pairs at seven levels of
# p from 0.5 to 0.95 and tests on a fixed balanced split of 600, with 10 seeds and every
# method. Ten seeds, not five: CCS fails on some seeds and not others at high p, and
# five seeds leave an interval too wide to read.
DEMO = (ExtractConfig(), SweepConfig())

PRESETS = {"demo": DEMO}

# The fast CCS optimizer: the same full-batch AdamW with twice the learning rate for half
# the epochs. On the demo it agreed with the reference optimizer to a mean |accuracy
# difference| of 0.005 per cell (make bench prints it); shorter schedules (200-400 epochs)
# disagreed on more cells, because CCS's failures at high p emerge late in training.
FAST_CCS = CCSConfig(epochs=500, lr=2e-3)

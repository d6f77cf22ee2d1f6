"""A synthetic contrast-pair generator with a known truth direction, and the predictions
the mechanism makes about it.

Model of a hidden state: for example i with s_i = +1 when its + completion is true
and -1 when false,

```text
phi(x+_i) = c_i + s_i * (a / 2) * t + (b / 2) * o + e+_i
phi(x-_i) = c_i - s_i * (a / 2) * t - (b / 2) * o + e-_i
```

with c_i content shared by both sides (the review itself), t the unit truth direction,
a the truth strength, o a unit "ends in positive/negative" token direction with offset
b, and independent noise e. Optionally a distractor: a second feature that flips
between x+ and x- like truth does (so it is just as consistent) but follows a balanced
random sign z_i unrelated to truth, adding +-z_i (c / 2) v to the two sides.

Per-side centering removes b * o / 2 exactly at any p, and
removes (2p - 1) * a / 2 of truth with it: true examples end up at a * (1 - p) along t,
false ones at -a * p, and the truth variance is 4p(1 - p) times the balanced one. The
distractor's variance does not shrink, so past the p where a^2 4p(1 - p) < c^2 it is
the most salient consistent direction.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from core.data.sampling import positives_for
from core.store.activations import ActivationSet


@dataclass
class SyntheticPairs:
    """Generated pairs [n, d], labels (1 = + true) and the directions that made them."""

    pos: torch.Tensor
    neg: torch.Tensor
    labels: np.ndarray
    truth_direction: torch.Tensor
    offset_direction: torch.Tensor
    distractor_direction: torch.Tensor
    negated: tuple[torch.Tensor, torch.Tensor]
    content_free: tuple[torch.Tensor, torch.Tensor]
    distractor_signs: np.ndarray  # +1 where x+ carries +distractor, -1 where x- does

    def as_activation_set(self, key: str = "synthetic", companion: str | None = None):
        """The pairs as a one-layer (layer 0) activation set, each with a text of its own
        (splits are disjoint by text, so identical placeholder texts would empty the pool),
        with the `companion` set ("negated" or "content_free") attached if named."""
        n = len(self.labels)
        texts = tuple(f"synthetic pair {i}" for i in range(n))
        attached = None
        if companion is not None:
            pos, neg = getattr(self, companion)
            attached = ActivationSet(
                f"{key}-{companion}",
                pos[None],
                neg[None],
                np.zeros(len(pos), dtype=np.int8),
                texts if len(pos) == n else tuple(f"free {i}" for i in range(len(pos))),
                tuple(map(str, range(len(pos)))),
                (0,),
                {},
            )
        meta = {"distractor_signs": self.distractor_signs.tolist()}
        return ActivationSet(
            key, self.pos[None], self.neg[None], self.labels, texts, tuple(map(str, range(n))), (0,), meta, attached
        )


@dataclass(frozen=True)
class Geometry:
    """The planted world of synthetic pairs (see the model above): the truth strength a,
    the token offset b, the noise and content scales, a distractor's strength, and the two
    companions' parameters: the negated question's offset (None: b) and the content-free
    prompts' lean along truth and count."""

    truth_strength: float = 2.0
    token_offset: float = 4.0
    noise: float = 0.5
    content_scale: float = 1.0
    distractor_strength: float = 0.0
    negated_offset: float | None = None
    content_free_lean: float = 0.0
    content_free_count: int = 3


def synthetic_pairs(n: int, dim: int, p: float = 0.5, seed: int = 0, **geometry) -> SyntheticPairs:
    """n contrast pairs in `dim` (>= 3) dimensions, exactly round(p * n) of them true on
    the + side, in the world `geometry` names (the fields of Geometry; the rest its
    defaults). Truth, offset and distractor directions are orthonormal and random
    (fixed by `seed`); the distractor's sign is balanced and independent of truth.

    Two companion sets come with them. `negated`: the same contents asked the opposite
    question, truth flipped on every row, the token offset `negated_offset` (default: the
    same) and a constant shift of the content (another prompt). `content_free`:
    `content_free_count` pairs with no content and no truth, the same token offset, plus a
    lean of `content_free_lean` along truth (a model that favours one answer on empty input)."""
    world = Geometry(**geometry)
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), 6]))
    basis, _ = np.linalg.qr(rng.standard_normal((dim, 3)))
    truth, offset, distractor = basis[:, 0], basis[:, 1], basis[:, 2]
    labels = np.zeros(n, dtype=np.int8)
    labels[rng.permutation(n)[: positives_for(p, n)]] = 1
    sign = (2 * labels.astype(np.float64) - 1)[:, None]
    other = np.where(rng.permutation(n) < n // 2, 1.0, -1.0)[:, None]
    flip = (
        sign * (world.truth_strength / 2) * truth
        + (world.token_offset / 2) * offset
        + other * (world.distractor_strength / 2) * distractor
    )
    content = world.content_scale * rng.standard_normal((n, dim))
    pos = content + flip
    neg = content - flip
    pos += world.noise * rng.standard_normal((n, dim))
    neg += world.noise * rng.standard_normal((n, dim))

    negated_flip = (
        -sign * (world.truth_strength / 2) * truth
        + ((world.token_offset if world.negated_offset is None else world.negated_offset) / 2) * offset
        + other * (world.distractor_strength / 2) * distractor
    )
    negated_content = content + world.content_scale * rng.standard_normal(dim)
    negated = (
        negated_content + negated_flip + world.noise * rng.standard_normal((n, dim)),
        negated_content - negated_flip + world.noise * rng.standard_normal((n, dim)),
    )
    free_flip = (world.token_offset / 2) * offset + (world.content_free_lean / 2) * truth
    free_content = 0.1 * world.content_scale * rng.standard_normal((world.content_free_count, dim))
    content_free = (free_content + free_flip, free_content - free_flip)

    def as_tensor(array: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(array).to(torch.float32)

    return SyntheticPairs(
        as_tensor(pos),
        as_tensor(neg),
        labels,
        as_tensor(truth),
        as_tensor(offset),
        as_tensor(distractor),
        tuple(map(as_tensor, negated)),
        tuple(map(as_tensor, content_free)),
        other[:, 0].astype(np.int8),
    )


def truth_variance_ratio(p: float | np.ndarray) -> float | np.ndarray:
    """Variance of the truth coordinate after per-side centering, relative to p = 0.5: 4p(1 - p)."""
    return 4 * np.asarray(p) * (1 - np.asarray(p))


def centered_truth_positions(p: float, truth_strength: float) -> tuple[float, float]:
    """Where true and false examples sit along t after centering: (a (1 - p), -a p)."""
    return truth_strength * (1 - p), -truth_strength * p


def mean_truth_shift(p: float, truth_strength: float) -> float:
    """The truth component of mean(phi(x+)) that centering subtracts: (2p - 1) a / 2."""
    return (2 * p - 1) * truth_strength / 2

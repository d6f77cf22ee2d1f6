"""The batched CCS engine against the sequential oracle, cell by cell, and on known answers."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest
import torch

from core.analysis.theory import synthetic_pairs
from core.config import CCSConfig
from core.data.sampling import split_test, training_draw
from core.experiments.sweep import run_sweep
from core.normalizations import fit_stats
from core.probes.ccs import CCSProblem, ccs_loss, ccs_problem, initial_parameters, train_ccs
from core.settings.sweep import SweepConfig
from core.store.activations import ActivationSet
from tests.oracle_ccs import OracleCCS


def synthetic_set(n=500, dim=24, seed=0, **kwargs) -> ActivationSet:
    data = synthetic_pairs(n, dim, p=0.5, seed=seed, **kwargs)
    return data.as_activation_set()


def test_initial_parameters_match_nn_linear_bounds_and_are_reproducible():
    weight, bias = initial_parameters(100, 7, seed=3)
    again, _ = initial_parameters(100, 7, seed=3)
    other, _ = initial_parameters(100, 7, seed=4)
    assert weight.shape == (7, 100) and bias.shape == (7,)
    assert torch.equal(weight, again) and not torch.equal(weight, other)
    assert weight.abs().max() <= 0.1 and bias.abs().max() <= 0.1
    # Uniform on +-1/sqrt(d): variance bound^2 / 3.
    assert weight.var().item() == pytest.approx(0.01 / 3, rel=0.1)


def test_ccs_loss_values():
    p_pos = torch.tensor([0.9, 0.5, 0.2])
    p_neg = torch.tensor([0.1, 0.5, 0.3])
    expected = [(0.9 - 0.9) ** 2 + 0.1**2, 0.0 + 0.25, (0.2 - 0.7) ** 2 + 0.04]
    assert ccs_loss(p_pos, p_neg).tolist() == pytest.approx(expected)


@pytest.mark.parametrize("normalization", ["mean", "meanstd"])
def test_batched_engine_equals_sequential_oracle_restart_by_restart(normalization):
    data = synthetic_pairs(240, 16, p=0.5, truth_strength=1.5, noise=0.8, seed=1)
    rng = np.random.default_rng(0)
    members = np.zeros((3, 240), dtype=bool)
    for row, size in enumerate((60, 100, 150)):
        members[row, rng.choice(240, size, replace=False)] = True
    init = [initial_parameters(16, 3, seed) for seed in range(3)]
    stats = [fit_stats(data.pos[row], data.neg[row], normalization) for row in members]
    problem = ccs_problem(
        data.pos,
        data.neg,
        torch.from_numpy(members),
        stats,
        torch.stack([w for w, _ in init]),
        torch.stack([b for _, b in init]),
    )
    config = CCSConfig(epochs=300, restarts=3)
    [fit] = train_ccs([problem], config)
    for cell in range(3):
        rows = np.flatnonzero(members[cell])
        oracle = OracleCCS(
            data.neg[rows].numpy(),
            data.pos[rows].numpy(),
            init[cell][0].numpy(),
            init[cell][1].numpy(),
            nepochs=300,
            var_normalize=normalization == "meanstd",
        )
        best = oracle.repeated_train()
        assert fit.restart_losses[cell].tolist() == pytest.approx(oracle.losses, rel=1e-4, abs=1e-6)
        assert fit.loss[cell].item() == pytest.approx(best, rel=1e-4, abs=1e-6)
        torch.testing.assert_close(fit.weight[cell], oracle.best_probe[0].weight.detach()[0], atol=2e-4, rtol=1e-3)
        assert fit.bias[cell].item() == pytest.approx(oracle.best_probe[0].bias.item(), abs=2e-4)


@pytest.mark.parametrize("normalization", ["mean", "meanstd"])
def test_a_cells_training_pairs_are_read_through_its_own_statistics(normalization):
    data = synthetic_pairs(120, 8, p=0.5, truth_strength=1.5, noise=0.8, seed=2)
    members = torch.zeros(2, 120, dtype=torch.bool)
    members[0, :50], members[1, 40:] = True, True
    stats = [fit_stats(data.pos[row], data.neg[row], normalization) for row in members]
    weight, bias = initial_parameters(8, 1, 0)
    problem = ccs_problem(data.pos, data.neg, members, stats, torch.stack([weight] * 2), torch.stack([bias] * 2))
    for cell, row in enumerate(members):
        for mine, theirs in zip(problem.training_pairs(cell), stats[cell].apply(data.pos[row], data.neg[row])):
            torch.testing.assert_close(mine, theirs)


def test_sweep_ccs_accuracy_matches_oracle_cell_by_cell():
    acts = synthetic_set(n=600, dim=24, truth_strength=1.2, noise=1.0, content_scale=1.5)
    config = SweepConfig(
        layer=0,
        p_levels=(0.5, 0.8, 0.95),
        n_train=160,
        n_test=200,
        seeds=(0, 1),
        methods=("ccs",),
        ccs=CCSConfig(epochs=400, restarts=4),
    )
    result = run_sweep(acts, config)
    test_idx, pool = split_test(acts.labels, 200, 0)
    pos, neg = acts.layer(0)
    for row in result.table.itertuples():
        train = training_draw(acts.labels, pool, row.p, 160, row.seed)
        weights, biases = initial_parameters(24, 4, row.seed)
        oracle = OracleCCS(neg[train].numpy(), pos[train].numpy(), weights.numpy(), biases.numpy(), nepochs=400)
        oracle.repeated_train()
        expected = oracle.get_acc(neg[test_idx].numpy(), pos[test_idx].numpy(), acts.labels[test_idx])
        assert abs(row.accuracy - expected) <= 0.01, (row.p, row.seed, row.accuracy, expected)


def test_ccs_finds_the_truth_on_balanced_synthetic_data():
    acts = synthetic_set(n=600, dim=32, seed=2)
    truth = synthetic_pairs(600, 32, seed=2).truth_direction
    config = SweepConfig(
        layer=0,
        p_levels=(0.5,),
        n_train=300,
        n_test=200,
        seeds=(0, 1, 2),
        methods=("ccs",),
        ccs=CCSConfig(epochs=500, restarts=5),
    )
    result = run_sweep(acts, config)
    assert result.table["accuracy"].min() > 0.95
    assert math.isclose(result.table["p_actual"].iloc[0], 0.5)
    for seed in (0, 1, 2):
        weight = result.probes[("ccs", 0.5, seed)].weight
        # The probe points along the truth direction (either sign: CCS cannot know which end is "true").
        assert abs(torch.nn.functional.cosine_similarity(weight, truth, dim=0).item()) > 0.8


def _small_problems(count: int, dim: int = 8) -> list[CCSProblem]:
    problems = []
    for seed in range(count):
        data = synthetic_pairs(60, dim, p=0.5, seed=seed)
        weight, bias = initial_parameters(dim, 2, seed)
        problems.append(
            ccs_problem(
                data.pos,
                data.neg,
                torch.ones(1, 60, dtype=torch.bool),
                [fit_stats(data.pos, data.neg)],
                weight[None],
                bias[None],
            )
        )
    return problems


@pytest.mark.parametrize("count", [1, 3])
def test_progress_counts_problem_epochs_up_to_the_total(count):
    calls = []
    train_ccs(_small_problems(count), CCSConfig(epochs=300, restarts=2), progress=lambda *done: calls.append(done))
    assert calls[-1] == (300 * count, 300 * count)
    assert all(total == 300 * count for _, total in calls)
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)


@pytest.mark.parametrize("count", [1, 3])
def test_a_raising_progress_callback_stops_every_worker(count):
    def cancel(done, total):
        raise InterruptedError("stopped by the user")

    started = time.perf_counter()
    with pytest.raises(InterruptedError):
        # Some minutes of epochs if nothing stopped them.
        train_ccs(_small_problems(count), CCSConfig(epochs=2_000_000, restarts=2), progress=cancel)
    assert time.perf_counter() - started < 10


def test_an_error_in_one_worker_stops_the_others_and_reaches_the_caller(monkeypatch):
    import core.probes.ccs as engine

    train_group = engine._train_group

    def failing_first(group, config, device, tick):
        if group.pos.shape[0] == 61:
            raise MemoryError("out of memory in one worker")
        return train_group(group, config, device, tick)

    monkeypatch.setattr(engine, "_train_group", failing_first)
    problems = _small_problems(3)
    data = synthetic_pairs(61, 8, seed=9)
    weight, bias = initial_parameters(8, 2, 9)
    problems[0] = ccs_problem(
        data.pos,
        data.neg,
        torch.ones(1, 61, dtype=torch.bool),
        [fit_stats(data.pos, data.neg)],
        weight[None],
        bias[None],
    )
    started = time.perf_counter()
    with pytest.raises(MemoryError, match="one worker"):
        train_ccs(problems, CCSConfig(epochs=2_000_000, restarts=2), progress=lambda done, total: None)
    assert time.perf_counter() - started < 10

"""Template ensembles (core.data.ensembles, core.extraction.extract, the sweep engine):
known answers on synthetic hidden states where each template adds its own offset and its
own consistent non-truth feature and only the truth direction is shared; per-template
normalization; averaged log-odds; one extraction per template, cached on its own; and the
settings' checks."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
import torch

from core.config import CCSConfig, DatasetSpec, ExtractConfig, ModelSpec
from core.data.bundled import BUNDLED_DATASETS, named_templates
from core.data.ensembles import ensemble_members, with_templates
from core.errors import UserError
from core.experiments.grid import parse_grid
from core.experiments.sweep import run_sweep
from core.extraction.extract import activation_key, extract
from core.extraction.runtime import Runtime
from core.normalizations import NORMALIZATION_REGISTRY, fit_stats
from core.probes.base import DIFFERENCE, PAIR, pair_scores
from core.settings.links import extract_from_params, extract_to_params
from core.settings.sweep import SweepConfig
from core.settings.validate import check_run
from core.store.activations import ENSEMBLE_FILE, ActivationSet, ActivationStore
from core.store.entries import CorruptEntry

TEMPLATES = ("a", "b", "c", "d")


def planted_templates(n=1200, d=24, k=4, truth=1.0, feature=1.6, noise=0.4, seed=0):
    """[1, n, k, d] pairs: truth s * truth * u / 2 shared by every template; on template t its
    own answer-token offset and its own consistent feature z_t * feature * v_t / 2 (z_t = +-1
    at random, flipping between the sides as truth does), stronger than truth on any one
    template (feature^2 > truth^2) but weaker than truth over the union (feature^2 / k <
    truth^2). So one template's unsupervised probes find its feature, the ensemble's truth."""
    rng = np.random.default_rng(seed)
    basis = np.linalg.qr(rng.normal(size=(d, d)))[0]
    u, features = basis[:, 0], basis[:, 1 : 1 + k]
    labels = (np.arange(n) % 2).astype(np.int8)
    rng.shuffle(labels)
    sign = 2.0 * labels - 1
    pos, neg = np.empty((n, k, d)), np.empty((n, k, d))
    for t in range(k):
        z = rng.choice([-1.0, 1.0], size=n)
        offset = rng.normal(size=d) * 3
        shared = rng.normal(size=(n, d)) * noise
        half = sign[:, None] * truth * u / 2 + z[:, None] * feature * features[:, t] / 2
        pos[:, t] = half + offset + shared + rng.normal(size=(n, d)) * noise
        neg[:, t] = -half - offset + shared + rng.normal(size=(n, d)) * noise
    as_tensor = lambda x: torch.tensor(x, dtype=torch.float32)[None]  # noqa: E731
    return as_tensor(pos), as_tensor(neg), labels


def sets() -> tuple[ActivationSet, ActivationSet]:
    pos, neg, labels = planted_templates()
    texts = tuple(f"t{i}" for i in range(len(labels)))
    one = ActivationSet("1" * 64, pos[:, :, 0].contiguous(), neg[:, :, 0].contiguous(), labels, texts, texts, (0,), {})
    ensemble = ActivationSet("e" * 64, pos, neg, labels, texts, texts, (0,), {}, templates=TEMPLATES)
    return one, ensemble


SWEEP = SweepConfig(
    layer=0,
    methods=("ccs", "tpc", "vinc", "lr_norm", "random"),
    p_levels=(0.5,),
    seeds=(0, 1),
    n_train=400,
    n_test=400,
    ccs=CCSConfig(epochs=400, lr=2e-3),
)


def test_the_ensemble_finds_the_shared_truth_that_one_template_misses():
    one, ensemble = sets()
    alone = run_sweep(one, SWEEP).table.groupby("method").accuracy.mean()
    together = run_sweep(ensemble, SWEEP).table.groupby("method").accuracy.mean()
    for method in ("ccs", "tpc", "vinc"):
        assert alone[method] < 0.65, (method, alone[method])  # its own feature, not truth
        assert together[method] > 0.95, (method, together[method])
    assert alone["lr_norm"] > 0.9 and together["lr_norm"] > 0.95  # labels find truth either way


def test_each_template_is_normalized_on_its_own():
    _, ensemble = sets()
    pos, neg = ensemble.layer(0)
    labels = ensemble.labels
    for kind, norm in NORMALIZATION_REGISTRY.items():
        if norm.companion is not None:
            with pytest.raises(UserError, match="companion"):
                fit_stats(pos, neg, kind, labels)
            continue
        stacked = fit_stats(pos, neg, kind, labels)
        for t in range(len(TEMPLATES)):
            alone = fit_stats(pos[:, t], neg[:, t], kind, labels)
            torch.testing.assert_close(stacked.mean_pos[t], alone.mean_pos)
            torch.testing.assert_close(stacked.mean_neg[t], alone.mean_neg)
        pos_n, _ = stacked.apply(pos, neg)
        assert pos_n.shape == pos.shape


@pytest.mark.parametrize("form", [PAIR, DIFFERENCE])
def test_an_ensemble_pair_scores_the_mean_log_odds_of_its_templates(form):
    generator = torch.Generator().manual_seed(0)
    pos, neg = torch.randn(50, 3, 8, generator=generator), torch.randn(50, 3, 8, generator=generator)
    weight = torch.randn(8, generator=generator)
    scores = pair_scores(form, weight, 0.3, pos, neg)
    each = [pair_scores(form, weight, 0.3, pos[:, t], neg[:, t]).log_odds for t in range(3)]
    np.testing.assert_allclose(scores.log_odds, np.mean(each, axis=0))
    np.testing.assert_allclose(scores.confidence, 1 / (1 + np.exp(-scores.log_odds)))


def test_every_bundled_set_has_four_named_templates_its_own_first():
    for name, entry in BUNDLED_DATASETS.items():
        family = named_templates(DatasetSpec("bundled", name))
        assert len(family) >= 4 and next(iter(family.values())).template == entry.template
        words = {(t.template.positive, t.template.negative) for t in family.values()}
        assert len(words) == len(family)  # each asks with other answer words


def test_an_ensemble_config_has_one_form_and_its_members_are_one_template_runs():
    config = with_templates(ExtractConfig(), ("is_negative", "sentiment"))
    assert config.template == named_templates(config.dataset)["is_negative"].template
    members = ensemble_members(config)
    assert [m.templates for m in members] == [(), ()]
    assert members[1] == ExtractConfig()  # the demo's own run, found under its own key
    assert activation_key(members[1], "cpu") == activation_key(ExtractConfig(), "cpu")
    assert activation_key(config, "cpu") != activation_key(members[0], "cpu")
    assert with_templates(ExtractConfig(), ()) == ExtractConfig()


@pytest.mark.parametrize(
    "params, message",
    [
        ({"templates": "sentiment"}, "at least two"),
        ({"templates": "sentiment,nope"}, "Unknown template 'nope'"),
        ({"templates": "sentiment,sentiment"}, "twice"),
        ({"templates": ",".join(["sentiment"] * 9)}, "0 to 8"),
    ],
    ids=["one", "unknown", "twice", "nine"],
)
def test_a_link_with_a_bad_ensemble_is_one_line(params, message):
    with pytest.raises(UserError, match=message):
        extract_from_params(params)


def test_a_link_carries_an_ensemble_by_its_names():
    config = extract_from_params({"templates": "sentiment,is_positive,tone,is_negative"})
    params = extract_to_params(config)
    assert params == {"templates": "sentiment,is_positive,tone,is_negative"}
    assert extract_from_params(params) == config


def test_an_ensemble_refuses_companion_normalizations_and_distractors():
    config = with_templates(ExtractConfig(), ("sentiment", "tone"))
    with pytest.raises(UserError, match="companion"):
        check_run(config, dataclasses.replace(SweepConfig(), normalization="negation_pooled"))
    distracted = dataclasses.replace(config, template=dataclasses.replace(config.template, distractor=("A", "B")))
    with pytest.raises(UserError, match="distractor"):
        ensemble_members(distracted)


def test_a_grid_reads_each_set_with_one_template_and_with_its_ensemble():
    grid = parse_grid(
        'models = ["bundled"]\ntemplates = ["one", "ensemble"]\nlayers = [2]\n'
        'run = { p = "0.5,0.9", seeds = 2, n = 1000, n_train = 300, n_test = 400 }\n'
        '[[datasets]]\nname = "larger_than"\n'
    )
    assert [e.templates for e in grid.extractions] == ["one", "ensemble of 4"]
    assert grid.extractions[1].config.templates == tuple(BUNDLED_DATASETS["larger_than"].templates)
    with pytest.raises(UserError, match="templates takes"):
        parse_grid('models = ["bundled"]\ntemplates = ["all"]\n[[datasets]]\nname = "larger_than"\n')


def tiny_ensemble(model_dir, csv_path, templates=("sentiment", "is_positive")) -> ExtractConfig:
    config = ExtractConfig(
        model=ModelSpec(model_id=str(model_dir)), dataset=DatasetSpec(source="csv", name=str(csv_path)), n_examples=40
    )
    return with_templates(config, templates)


def test_an_ensemble_extracts_each_template_once_and_stacks_them(tiny_llama, sentiment_csv):
    store = ActivationStore()
    runtime = Runtime(activations=store, device="cpu")
    two = tiny_ensemble(tiny_llama, sentiment_csv)
    outcome = extract(two, runtime)
    assert not outcome.cached and outcome.key == activation_key(two, "cpu")
    acts = store.load(outcome.key)
    members = [store.load(activation_key(m, "cpu")) for m in ensemble_members(two)]
    assert acts.templates == ("sentiment", "is_positive") and acts.pos.shape == (3, 40, 2, 32)
    for t, member in enumerate(members):
        torch.testing.assert_close(acts.pos[:, :, t], member.pos)
        torch.testing.assert_close(acts.neg[:, :, t], member.neg)
    assert acts.ids == members[0].ids and (acts.labels == members[0].labels).all()
    three = tiny_ensemble(tiny_llama, sentiment_csv, ("sentiment", "is_positive", "tone"))
    assert not extract(three, runtime).cached  # only the new template was extracted
    assert extract(three, runtime).cached
    with pytest.raises(UserError, match="template ensemble"):
        acts.require_one_template("The mechanism")
    result = run_sweep(
        store.load(outcome.key, layers=[2]),
        SweepConfig(layer=2, p_levels=(0.5,), seeds=(0,), n_train=10, n_test=20, ccs=CCSConfig(epochs=5)),
    )
    assert set(result.table.method) == set(SweepConfig().methods)


def test_a_tampered_ensemble_entry_is_set_aside(tiny_llama, sentiment_csv):
    store = ActivationStore()
    outcome = extract(tiny_ensemble(tiny_llama, sentiment_csv), Runtime(activations=store, device="cpu"))
    members = store.path(outcome.key) / ENSEMBLE_FILE
    swapped = json.loads(members.read_text())[::-1]
    members.write_text(json.dumps(swapped))
    with pytest.raises(CorruptEntry):
        store.load(outcome.key)
    assert not store.has(outcome.key)

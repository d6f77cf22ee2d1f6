"""Activations from anywhere: the activation file (core.store.activation_files, format
version 1) written by hand with safetensors alone, imported through the command line into a
folder of its own, swept there with its imbalance effect intact; and every bad file refused
in one line with nothing written."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
import torch
from safetensors.torch import save_file

import core
from core.__main__ import main
from core.analysis.theory import synthetic_pairs
from core.experiments.runs import list_runs
from core.store.activation_files import MAX_HIDDEN, MIN_PAIRS, read_activation_file
from core.store.activation_imports import imported_activations_folder, imported_key, imported_sets
from core.store.activations import ActivationStore


def manifest(n: int, d: int, layers=(4,), **extra) -> dict:
    return {"format": "ccs-lab-activations", "version": 1, "n": n, "hidden_size": d, "layers": list(layers),
            "model": {"id": "someone/model-7b", "num_layers": 8}, **extra}  # fmt: skip


def write_by_hand(path, tensors: dict, meta: dict | None) -> None:
    """An activation file as a researcher writes it without this lab: safetensors and json."""
    save_file(tensors, str(path), metadata=None if meta is None else {"ccs_lab": json.dumps(meta)})


@pytest.fixture
def planted_file(tmp_path):
    """1,200 pairs with a planted truth direction and a large answer-token offset, balanced,
    as bfloat16 [2 layers, n, d] (a GPU extraction's dtype), written by hand."""
    data = synthetic_pairs(1200, 16, p=0.5, truth_strength=2.0, token_offset=4.0, noise=0.5, seed=5)
    pos = torch.stack([data.pos, 0.5 * data.pos]).to(torch.bfloat16)
    neg = torch.stack([data.neg, 0.5 * data.neg]).to(torch.bfloat16)
    texts = [f"statement {i}" for i in range(1200)]
    path = tmp_path / "cluster-run.safetensors"
    write_by_hand(
        path,
        {"pos": pos, "neg": neg, "labels": torch.from_numpy(data.labels.astype(np.int64))},
        manifest(1200, 16, layers=(4, 8), texts=texts, extractor="nnsight 0.5", template="Is it true? {text}"),
    )
    return path


def test_a_file_written_by_hand_imports_through_the_cli_and_sweeps_with_its_effect(planted_file, capsys, tmp_path):
    assert main(["import-activations", str(planted_file)]) == 0
    out = capsys.readouterr().out
    (imported,) = imported_sets()
    assert imported.id in out and "1200 pairs" in out and "layers 4, 8" in out
    assert main(["import-activations", str(planted_file)]) == 0 and "already imported" in capsys.readouterr().out
    csv = tmp_path / "results.csv"
    args = ["sweep", "--activations", imported.id, "--layer", "4", "--p-levels", "0.5,0.95", "--seeds", "3",
            "--n-train", "200", "--n-test", "400", "--methods", "lr_raw,lr_norm,tpc", "--out", str(csv)]  # fmt: skip
    assert main(args) == 0
    out = capsys.readouterr().out
    assert f"activations {imported.id} (imported from cluster-run.safetensors" in out
    table = pd.read_csv(csv)
    mean = table.groupby(["method", "p"]).accuracy.mean()
    assert mean["lr_raw", 0.5] > 0.95 and mean["lr_raw", 0.95] > 0.9  # raw differences keep their threshold
    assert mean["lr_norm", 0.5] > 0.95 and mean["lr_norm", 0.95] < 0.85  # centering moved it: the effect
    auroc = table.groupby(["method", "p"]).auroc.mean()
    assert auroc["lr_norm", 0.95] > 0.95  # ... with the direction intact
    # The import's results live with it: nothing in the local stores, no local run listed.
    assert ActivationStore().entries() == [] and [r for r in list_runs() if not r.imported] == []
    (listed,) = list_runs()  # the library of runs lists it with its origin, addressed by the import
    assert listed.imported == imported.id and "imported from cluster-run.safetensors" in listed.origin
    assert list((imported.folder / "sweeps").iterdir())
    assert imported.key == imported_key(imported.sha256) and len(imported.key) == 64
    # The depth of the manifest's model places a relative layer.
    assert main([*args[:4], "100%", *args[5:-2]]) == 0 and "Layer 8" in capsys.readouterr().out
    assert main(["inspect", "--activations", imported.id, "--layer", "4", *args[5:-4], "--method", "lr_norm",
                 "--p", "0.95", "--rows", "2"]) == 0  # fmt: skip
    assert "statement" in capsys.readouterr().out
    assert main(["import-activations", "--remove", imported.id]) == 0
    assert imported_sets() == [] and not imported.folder.exists()


def test_the_library_reads_what_the_writer_writes_and_sweeps_it(tmp_path):
    data = synthetic_pairs(300, 8, p=0.5, seed=1)
    path = core.write_activation_file(
        tmp_path / "mine.safetensors", data.pos, data.neg, data.labels, layers=[2], model="mine", dataset="planted"
    )
    file = read_activation_file(path)
    assert file.pos.shape == (1, 300, 8) and file.ids[:2] == ("0", "1") and file.texts[:2] == ("0", "1")
    acts = core.import_activations(path)
    assert acts.layers == (2,) and acts.meta["origin"]["file_name"] == "mine.safetensors"
    assert torch.equal(acts.pos[0], data.pos) and (acts.labels == data.labels).all()
    result = core.sweep(acts, core.SweepConfig(layer=2, p_levels=(0.5,), n_train=100, n_test=100, seeds=(0,),
                                               methods=("lr_raw",)))  # fmt: skip
    assert result.table.accuracy.iloc[0] > 0.9 and core.load_activations(acts.meta["origin"]["id"]).key == acts.key
    with pytest.raises(core.UserError, match=r"too few|needs"):
        core.sweep(acts)  # the demo's 400 + 600 pairs: more than the file holds


def good(n=40, d=6, layers=1):
    rng = np.random.default_rng(0)
    labels = np.arange(n) % 2
    return {
        "pos": torch.from_numpy(rng.normal(size=(layers, n, d)).astype(np.float32)),
        "neg": torch.from_numpy(rng.normal(size=(layers, n, d)).astype(np.float32)),
        "labels": torch.from_numpy(labels),
    }


def with_value(name, index, value):
    tensors = good()
    tensors[name] = tensors[name].clone()
    tensors[name].view(-1)[index] = value
    return tensors


BAD_FILES = {
    "no pos array": ({k: v for k, v in good().items() if k != "pos"}, manifest(40, 6), "no 'pos' array"),
    "no labels": ({k: v for k, v in good().items() if k != "labels"}, manifest(40, 6), "no 'labels' array"),
    "an extra array": ({**good(), "extra": torch.zeros(3)}, manifest(40, 6), "besides"),
    "neg of another shape": ({**good(), "neg": torch.zeros(1, 40, 5)}, manifest(40, 6), "neg array"),
    "labels of another length": ({**good(), "labels": torch.zeros(39, dtype=torch.int64)}, manifest(40, 6), "labels"),
    "a NaN": (with_value("pos", 17, math.nan), manifest(40, 6), "NaN or infinite"),
    "an infinity": (with_value("neg", 3, math.inf), manifest(40, 6), "NaN or infinite"),
    "a label 2": (with_value("labels", 5, 2), manifest(40, 6), "not all 0 or 1"),
    "float labels": ({**good(), "labels": torch.zeros(40)}, manifest(40, 6), "integer or bool"),
    "one class only": ({**good(), "labels": torch.ones(40, dtype=torch.int64)}, manifest(40, 6), "both"),
    "too few pairs": (good(n=MIN_PAIRS - 2), manifest(MIN_PAIRS - 2, 6), "at least"),
    "wider than the cap": (good(n=8, d=MAX_HIDDEN + 1), manifest(8, MAX_HIDDEN + 1), "caps"),
    "a manifest that lies about n": (good(), manifest(41, 6), "says n 41"),
    "a manifest that lies about the width": (good(), manifest(40, 7), "says hidden_size 7"),
    "a manifest that lies about the layers": (good(layers=2), manifest(40, 6, layers=(3,)), "says layers 1"),
    "too few texts": (good(), manifest(40, 6, texts=["a"] * 39), "39 texts"),
    "no manifest": (good(), None, "no 'ccs_lab' manifest"),
    "another version": (good(), {**manifest(40, 6), "version": 2}, "is version 2"),
    "an unknown manifest field": (good(), {**manifest(40, 6), "pickle": "x"}, "pickle"),
    "a depth past any model": (good(), manifest(40, 6, layers=(5000,)), "layers"),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_each_bad_file_gets_one_line_and_nothing_is_written(case, tmp_path, capsys, isolated_cache):
    tensors, meta, reason = BAD_FILES[case]
    path = tmp_path / "bad.safetensors"
    write_by_hand(path, tensors, meta)
    assert main(["import-activations", str(path)]) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: bad.safetensors: ") and reason in lines[0], lines
    assert "Traceback" not in captured.err and captured.out == ""
    folder = imported_activations_folder()
    assert not folder.exists() or not any(folder.iterdir())


@pytest.mark.parametrize(
    "content, reason",
    [
        (b"", "shorter than its header"),
        (b"\x80\x04K\x01.", "shorter than its header"),  # a pickle, refused before anything reads it
        (b"\xff" * 64, "header length"),
        (b"\x10\x00\x00\x00\x00\x00\x00\x00{not json at all", "not JSON"),
    ],
    ids=["empty", "a pickle", "a header past the file", "a header not JSON"],
)
def test_a_file_that_is_not_safetensors_gets_one_line(content, reason, tmp_path, capsys):
    path = tmp_path / "odd.safetensors"
    path.write_bytes(content)
    assert main(["import-activations", str(path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and reason in err[0], err


def test_a_truncated_file_and_a_missing_one_get_one_line(tmp_path, capsys):
    path = tmp_path / "cut.safetensors"
    write_by_hand(path, good(), manifest(40, 6))
    path.write_bytes(path.read_bytes()[:-100])
    assert main(["import-activations", str(path)]) == 2
    assert "bytes, and its header describes" in capsys.readouterr().err
    assert main(["import-activations", str(tmp_path / "nowhere.safetensors")]) == 2
    assert "no such file" in capsys.readouterr().err


def test_an_import_id_is_never_a_path_and_a_sweep_too_large_for_the_set_gets_one_line(tmp_path, capsys):
    path = tmp_path / "small.safetensors"
    write_by_hand(path, good(n=60), manifest(60, 6))
    assert main(["import-activations", str(path)]) == 0
    (imported,) = imported_sets()
    capsys.readouterr()
    assert main(["sweep", "--activations", "../../etc"]) == 2 and "not an import id" in capsys.readouterr().err
    assert main(["sweep", "--activations", imported.id, "--layer", "4"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and ("training pairs" in err[0] or "test" in err[0]), err

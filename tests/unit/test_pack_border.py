"""Issue 27: what is computed from imported data is imported data, and text from outside is
harmless everywhere. A forged pack (another machine's data under this machine's keys, its
views left out so they are measured here) changes nothing the owner's own deck draws, for
every step type; whatever is measured from it lives and goes with it. Every imported
table and JSON file is held to the schema of what it claims to be and every member to the
lab's own caps while it streams; a pack is the same pack only by its whole sha256; the
command line prints no control character from any imported field; a pack's copy of a run
has an address of its own.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import io
import json
import re
import tracemalloc
import unicodedata
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xxhash
from safetensors.torch import load as load_tensors
from safetensors.torch import save as save_tensors

import core.story.pack
from core.__main__ import main
from core.analysis.grids import grid_summary
from core.errors import UserError
from core.experiments.runs import find_runs, list_runs, load_run, run_address
from core.store.entries import CorruptEntry
from core.store.imports import imported_pack, imported_packs
from core.story.deck import deck_by_name, parse_deck
from core.story.pack import unpack
from core.story.pack_checks import MAX_RATIO
from core.story.registry import compute, missing, slide
from core.story.results import Results
from core.text import visible_text
from tests.planted import DECK, RUN, drop_views, forge, pack_planted, plant_demo_activations, sweep_runner

MODELS_STEP = f"""
[[steps]]
type = "models"
title = "Across models"
run = {RUN}
models = ["smollm2-135m", "gemma3-270m"]
depths = [2]
methods = ["ccs", "lr_norm"]
"""
EVERY_STEP = DECK + MODELS_STEP  # every step type, the across-models one included


def plant(root: Path, seed: int) -> None:
    """The demo's activations and the across-models step's, planted with `seed`."""
    plant_demo_activations(root, seed=seed)
    step = parse_deck(MODELS_STEP, "models.toml").steps[0]
    for extract in dict.fromkeys(extract for extract, _ in step.runs()):
        if extract != parse_deck(DECK, "d.toml").steps[1].configs()[0]:
            plant_demo_activations(root, seed=seed, config=extract, layers=extract.layers)


def computed(root: Path, seed: int):
    """(deck, Results) of EVERY_STEP with every result computed on activations planted with `seed`."""
    plant(root, seed)
    deck = parse_deck(EVERY_STEP, "planted.toml")
    results = Results(root)
    compute(deck, results, sweep_runner(root))
    return deck, results


def drawn(deck, results) -> list:
    """What each step draws: its chart's data, its pair, its caption and its origin."""
    shown = [slide(step, results) for step in deck.steps]
    return [
        None
        if s is None
        else (
            json.dumps(s.chart.to_dict()["datasets"], sort_keys=True) if s.chart else None,
            s.pair,
            s.caption,
            s.origin,
        )
        for s in shown
    ]


def files(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file() and ".locks" not in p.parts}


@pytest.fixture(scope="module")
def every_step_forged(tmp_path_factory) -> Path:
    """EVERY_STEP packed on another machine from other data planted under this machine's keys,
    its views left out, so that opening its deck here measures them from its sweeps."""
    root = tmp_path_factory.mktemp("every-step-forger")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CCS_LAB_CACHE", str(root / "cache"))
        _deck, results = computed(root / "cache", seed=7)
        honest = pack_planted(results, root, EVERY_STEP, "honest")
    return forge(honest, root / "talk.zip", drop_views)


@pytest.fixture(scope="module")
def every_step_clean(tmp_path_factory):
    """(deck, Results) of EVERY_STEP computed in a clean cache, on this machine's data."""
    root = tmp_path_factory.mktemp("every-step-clean")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CCS_LAB_CACHE", str(root))
        return computed(root, seed=0)


def test_a_forged_pack_changes_nothing_the_owners_deck_draws_and_goes_with_everything_derived(
    every_step_forged, every_step_clean, isolated_cache
):
    forged = every_step_forged
    deck, clean = every_step_clean  # what a clean cache draws
    expected = drawn(deck, clean)
    owner = isolated_cache
    plant(owner, seed=0)
    address, imported, report = unpack(forged)
    there = Results.of_deck(imported)
    assert missing(imported, there)[1]  # its views are missing: measured here, from its sweeps
    compute(imported, there, sweep_runner(owner))
    pack_folder = imported_pack(report.pack).folder
    assert len(list((pack_folder / "views").glob("*.json"))) == 3  # kept with the pack
    assert not (owner / "views").exists() and not (owner / "sweeps").exists()  # nothing stored as this machine's
    assert all(s is None or s[3].startswith(f"from pack {report.pack}") for s in drawn(imported, there)[1:])

    own = Results(owner)
    runs, views = missing(deck, own)
    assert len(runs) == len(deck.runs()) and len(views) == 3  # nothing of the pack answers the owner's deck
    compute(deck, own, sweep_runner(owner))
    assert drawn(deck, own) == expected
    # the pack's deck now reads this machine's results first, and says nothing came from the pack
    assert drawn(imported, Results.of_deck(deck_by_name(address))) == expected

    assert main(["packs", "--remove", report.pack]) == 0
    assert not pack_folder.exists() and imported_packs() == []
    derived = files(owner) - {f for f in files(owner) if f.startswith("activations/")}
    clean_files = files(clean.root) - {f for f in files(clean.root) if f.startswith("activations/")}
    assert derived == clean_files  # no file derived from the pack remains
    assert drawn(deck, Results(owner)) == expected


def test_a_view_measured_from_a_packs_sweep_needs_the_activations_it_was_trained_on(
    forged_planted_pack, isolated_cache
):
    _address, imported, report = unpack(forged_planted_pack)  # this machine has no activations at all
    with pytest.raises(UserError, match=f"does not have; its pack {report.pack} brought no view"):
        compute(imported, Results.of_deck(imported), sweep_runner(isolated_cache))
    assert not (isolated_cache / "views").exists()


def test_a_packs_sweep_that_does_not_fit_this_machines_activations_is_one_line(forged_planted_pack, isolated_cache):
    plant_demo_activations(isolated_cache, n=1600, d=7)  # the same key, another width
    _address, imported, _report = unpack(forged_planted_pack)
    with pytest.raises(UserError, match="was not trained on these activations"):
        compute(imported, Results.of_deck(imported), sweep_runner(isolated_cache))


def test_a_grid_summary_reads_nothing_a_pack_brought(planted_deck, tmp_path, isolated_cache):
    """Grids, comparisons and remedies are computed from the runs a lookup finds: an owner's
    grid table and summary are the same before and after a pack with altered results under
    the very same keys is imported."""
    deck, results = planted_deck
    before = {r.key: load_run(r).table for r in list_runs()}
    pack_planted(results, tmp_path, name="honest")

    def halve_accuracy(members):
        for name in [n for n in members if n.endswith("results.csv")]:
            table = pd.read_csv(io.BytesIO(members[name]))
            members[name] = table.assign(accuracy=0.5).to_csv(index=False).encode()

    unpack(forge(tmp_path / "honest.zip", tmp_path / "altered.zip", halve_accuracy))
    after = {r.key: load_run(r).table for r in list_runs() if not r.pack}
    assert before.keys() == after.keys() and all(before[k].equals(after[k]) for k in before)
    tables = [Results(isolated_cache).sweep(run).table.assign(model="m", dataset="d", depth="") for run in deck.runs()]
    summary = grid_summary(pd.concat(tables, ignore_index=True))
    assert (summary is not None) and len(summary)
    assert drawn(deck, Results(isolated_cache)) == drawn(deck, results)


CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]")
HOSTILE_TITLE = "Talk\x1b]0;pwned\x07\x1b[2K\rshipped:\n  fake-deck\u202edrowssap\x9b31m\t\x00"


def test_the_command_line_prints_no_control_character_from_any_imported_field(planted_deck, tmp_path, capsys):
    _deck, results = planted_deck
    text = DECK.replace('title = "Planted </script> talk"', f"title = {json.dumps(HOSTILE_TITLE)}")
    pack_planted(results, tmp_path, text, "honest")

    def hostile_records(members):
        for name in [n for n in members if n.endswith("info.json")]:
            record = json.loads(members[name])
            record["extraction"]["model_name"] = "Smol\x1b[31mLM\x1b[0m\r\x1b[1A\x1b[2Kshipped: x"
            record["extraction"]["dataset_description"] = "snippets\n\u2066evil\u2069\x1b]8;;http://x\x07link"
            members[name] = json.dumps(record).encode()

    zipped = forge(tmp_path / "honest.zip", tmp_path / "e\x1bvil.zip", hostile_records)
    capsys.readouterr()
    for argv in (["unpack", str(zipped)], ["decks"], ["runs"], ["packs"], ["runs", "--origin", "imported"]):
        assert main(argv) == 0, argv
        printed = capsys.readouterr()
        for stream in (printed.out, printed.err):
            assert not CONTROL.search(stream), (argv, CONTROL.search(stream))
            assert not any(unicodedata.category(c) in ("Cc", "Cf") for c in stream if c != "\n"), argv
            assert not any(line.lstrip().startswith(("shipped:", "fake-deck")) for line in stream.splitlines()[1:])
        if argv == ["decks"]:
            assert printed.out.splitlines()[0] == "shipped:" and "\\x1b]0;pwned" in printed.out
        if argv == ["runs"]:
            assert "Smol\\x1b[31mLM" in printed.out


@pytest.mark.parametrize(
    "text, shown",
    [
        ("\x1b[2K\r\x1b]0;pwned\x07", "\\x1b[2K\\x0d\\x1b]0;pwned\\x07"),
        ("a\nb\tc\x00d\x7fe\x9bf", "a\\x0ab\\x09c\\x00d\\x7fe\\x9bf"),
        ("\u202eevil\u2066x\u2069\u200f", "\\u202eevil\\u2066x\\u2069\\u200f"),
        ("line\u2028next\u2029", "line\\u2028next\\u2029"),
        ("hidden\U000e0041\u200b\ufeff", "hidden\\U000e0041\\u200b\\ufeff"),
        ("lone \ud800 surrogate", "lone \\ud800 surrogate"),
        ("Ça va, 日本語, مرحبا, می‌خواهم, 👩‍🔬 — ok", "Ça va, 日本語, مرحبا, می‌خواهم, 👩‍🔬 — ok"),
    ],
    ids=["ansi-osc", "c0-del-c1", "bidi", "separators", "invisible", "surrogate", "scripts-kept"],
)
def test_visible_text_escapes_what_a_terminal_acts_on_and_keeps_every_script(text, shown):
    assert visible_text(text) == shown
    assert visible_text(shown) == shown  # nothing left to escape


def digest_colliding(monkeypatch):
    """Every pack file's sha256 begins with the same 8 hex digits, as two colliding packs' would."""
    real = core.story.pack.file_digest
    monkeypatch.setattr(core.story.pack, "file_digest", lambda path: "0" * 8 + real(path)[8:])


def test_two_packs_whose_short_ids_collide_import_under_different_ids(planted_deck, tmp_path, monkeypatch):
    _deck, results = planted_deck
    digest_colliding(monkeypatch)
    zipped = []
    for title in ("First talk", "Second talk"):
        folder = tmp_path / title.split()[0]
        folder.mkdir()
        zipped.append(pack_planted(results, folder, DECK.replace("Planted </script> talk", title)))
    first, second = (unpack(path) for path in zipped)
    assert first[2].pack == "talk-00000000" and re.fullmatch(r"talk-00000000[0-9a-f]{8}", second[2].pack)
    assert deck_by_name(first[0]).title == "First talk" and deck_by_name(second[0]).title == "Second talk"
    again = [unpack(path)[2] for path in zipped]  # each found by its whole sha256, nothing written
    assert again == [dataclasses.replace(first[2], already=True), dataclasses.replace(second[2], already=True)]
    assert {pack.id for pack in imported_packs()} == {first[2].pack, second[2].pack}


def _results(members):
    return next(n for n in members if n.endswith("results.csv"))


def _edit_results(edit):
    def change(members):
        name = _results(members)
        members[name] = edit(pd.read_csv(io.BytesIO(members[name]))).to_csv(index=False).encode()

    return change


def _nest(members, name: str, depth: int = 100_000):
    members[name] = (b"[" * depth) + (b"]" * depth)


def _drop_biases(members):
    for name in [n for n in members if n.endswith(".safetensors")]:
        members[name] = save_tensors({k: v for k, v in load_tensors(members[name]).items() if not k.endswith(".bias")})


def _ten_thousand_seeds(members):
    for name in [n for n in members if n.endswith("info.json")]:
        record = json.loads(members[name])
        record["config"]["seeds"] = list(range(10_000))
        members[name] = json.dumps(record).encode()


HOSTILE_MEMBERS = {
    "results-other-text": lambda m: m.update({_results(m): b"name,colour\nalice,blue\nbob,green\n"}),
    "results-no-method-column": _edit_results(lambda t: t.drop(columns="method")),
    "results-accuracy-out-of-range": _edit_results(lambda t: t.assign(accuracy=7.0)),
    "results-a-cell-missing": _edit_results(lambda t: t.iloc[1:]),
    "results-a-cell-twice": _edit_results(lambda t: pd.concat([t, t.iloc[:1]])),
    "results-an-unknown-method": _edit_results(lambda t: t.assign(method="svm")),
    "results-not-csv": lambda m: m.update({_results(m): b"\x00\xff\xfe" * 100}),
    "probes-a-tensor-dropped": _drop_biases,
    "probes-not-safetensors": lambda m: m.update({n: b"\x10" + b"\x00" * 15 for n in m if n.endswith(".safetensors")}),
    "record-nested": lambda m: _nest(m, next(n for n in m if n.endswith("info.json"))),
    "record-claims-10000-seeds": _ten_thousand_seeds,
    "deck-nested": lambda m: m.update({"deck.toml": b"title = " + b"[" * 100_000 + b"]" * 100_000}),
    "view-other-columns": lambda m: m.update(
        {n: d.replace(b'"confidence"', b'"confidance"') for n, d in m.items() if n.startswith("views/")}
    ),
    "view-nested": lambda m: _nest(m, next(n for n in m if n.startswith("views/"))),
}


@pytest.mark.parametrize("case", list(HOSTILE_MEMBERS))
def test_every_imported_table_and_json_file_is_held_to_its_schema(planted_deck, tmp_path, case):
    _deck, results = planted_deck
    pack_planted(results, tmp_path, name="honest")
    bad = forge(tmp_path / "honest.zip", tmp_path / "bad.zip", HOSTILE_MEMBERS[case])
    with pytest.raises(UserError) as error:
        unpack(bad, root=tmp_path / "target")
    message = str(error.value)
    assert "\n" not in message and "Unexpected" not in message and "nothing was imported" in message, message
    assert not (tmp_path / "target").exists()


def test_a_manifest_nested_100000_levels_is_one_line_and_nothing_is_written(planted_deck, tmp_path):
    _deck, results = planted_deck
    pack_planted(results, tmp_path, name="honest")
    with zipfile.ZipFile(tmp_path / "honest.zip") as archive, zipfile.ZipFile(tmp_path / "bad.zip", "w") as out:
        for name in archive.namelist():
            data = archive.read(name)
            nested = b'{"format": 1, "pins": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
            out.writestr(name, nested if name == "manifest.json" else data)
    with pytest.raises(UserError, match="nested deeper") as error:
        unpack(tmp_path / "bad.zip", root=tmp_path / "target")
    assert "\n" not in str(error.value) and not (tmp_path / "target").exists()


def test_a_result_that_reached_the_cache_unchecked_is_one_line_when_drawn(planted_deck, tmp_path):
    """A pack imported before these checks, whose results table is other text: its deck
    says one line (the run set aside), never an unexpected error."""
    _deck, results = planted_deck
    pack_planted(results, tmp_path)
    _address, imported, _report = unpack(tmp_path / "talk.zip", root=tmp_path / "there")
    folder = imported.pack.sweeps.root
    for info_file in folder.glob("*/info.json"):
        info = json.loads(info_file.read_text())
        (info_file.parent / "results.csv").write_text("name,colour\nalice,blue\n")
        info["checksums"]["results.csv"] = xxhash.xxh3_128_hexdigest(b"name,colour\nalice,blue\n")
        info_file.write_text(json.dumps(info))
    with pytest.raises(CorruptEntry) as error:
        slide(imported.steps[1], Results.of_deck(imported, tmp_path / "there"))
    assert "failed its check" in str(error.value) and "\n" not in str(error.value)


def _zeros(out: zipfile.ZipFile, name: str, size: int) -> str:
    """Stream `size` zero bytes into the member `name` (deflated); returns their sha256."""
    digest, block = hashlib.sha256(), b"\0" * (1 << 20)
    info = zipfile.ZipInfo(name)
    info.compress_type = zipfile.ZIP_DEFLATED
    with out.open(info, "w", force_zip64=True) as member:
        for _ in range(size >> 20):
            member.write(block)
            digest.update(block)
    return digest.hexdigest()


def test_members_beyond_the_labs_caps_are_refused_while_streaming_in_bounded_memory(planted_deck, tmp_path):
    _deck, results = planted_deck
    pack_planted(results, tmp_path, name="honest")
    with zipfile.ZipFile(tmp_path / "honest.zip") as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    manifest = json.loads(members.pop("manifest.json"))
    probes = next(n for n in members if n.endswith(".safetensors"))
    with zipfile.ZipFile(tmp_path / "bomb.zip", "w", compression=zipfile.ZIP_DEFLATED) as out:
        manifest["members"][probes] = _zeros(out, probes, 200 << 20)  # 200 MB of zeros, about 200 KB packed
        for name, data in members.items():
            if name != probes:
                out.writestr(name, data)
        out.writestr("manifest.json", json.dumps(manifest))
    assert (tmp_path / "bomb.zip").stat().st_size < 2 << 20
    tracemalloc.start()
    try:
        with pytest.raises(UserError, match=f"over {MAX_RATIO} times its packed size|is not the probes"):
            unpack(tmp_path / "bomb.zip", root=tmp_path / "target")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 300 << 20, peak / 2**20
    assert peak < 32 << 20  # a few blocks, never the member
    assert not (tmp_path / "target").exists()


def test_a_packs_copy_of_a_run_has_an_address_of_its_own(planted_deck, tmp_path, capsys):
    _deck, results = planted_deck
    pack_planted(results, tmp_path)
    _address, _deck, report = unpack(tmp_path / "talk.zip")  # into the machine that computed it all
    records = list_runs()
    own = next(r for r in records if not r.pack)
    copy = next(r for r in records if r.pack and r.key == own.key)
    assert run_address(own) == own.key[:12] and run_address(copy) == f"{report.pack}:{own.key[:12]}"
    assert find_runs([own.key[:12]]) == [own] and find_runs([run_address(copy)]) == [copy]
    capsys.readouterr()
    assert main(["compare", run_address(own), run_address(copy)]) == 0
    printed = capsys.readouterr().out
    assert f"{report.pack}:{own.key[:12]}: " in printed and "computed here" in printed
    assert main(["runs"]) == 0 and f"\n{report.pack}:{own.key[:12]}  " in "\n" + capsys.readouterr().out
    for bad in (f"nopack-12345678:{own.key[:12]}", "Not A Pack:abcdef"):
        assert main(["compare", own.key[:12], bad]) == 2


def test_fuzzed_packs_are_refused_in_one_line_or_import_whole(planted_deck, tmp_path):
    """Random damage to random members, every checksum recomputed as a forger would: each
    pack is either refused with one line and nothing written, or imported and drawn."""
    _deck, results = planted_deck
    pack_planted(results, tmp_path, name="honest")
    rng = np.random.default_rng(27)
    refused = 0
    for trial in range(40):

        def damage(members, trial=trial):
            name = sorted(members)[rng.integers(len(members))]
            data = bytearray(members[name])
            kind = trial % 4
            if kind == 0 and data:  # flip bytes
                for position in rng.integers(len(data), size=3):
                    data[position] ^= int(rng.integers(1, 256))
            elif kind == 1:  # cut short
                data = data[: int(rng.integers(len(data) + 1))]
            elif kind == 2:  # another member's bytes
                data = bytearray(members[sorted(members)[rng.integers(len(members))]])
            else:  # random JSON-ish text
                data = bytearray(json.dumps({"x": [1, "a", None, {"y": 2.5}]}).encode())
            members[name] = bytes(data)

        bad = forge(tmp_path / "honest.zip", tmp_path / f"fuzz{trial}.zip", damage)
        target = tmp_path / f"target{trial}"
        try:
            address, deck, _report = unpack(bad, root=target)
        except UserError as error:
            refused += 1
            assert "\n" not in str(error) and "Unexpected" not in str(error)
            assert not target.exists() or not any(target.rglob("*.*")), str(error)
            continue
        for step in deck.steps:
            with contextlib.suppress(UserError):
                slide(step, Results.of_deck(deck_by_name(address, root=target), target))
    assert refused >= 30

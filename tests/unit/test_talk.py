"""Decks end to end on planted data: every step type draws from cached results, `pack`
carries exactly what the steps draw, `unpack` into an empty cache on a machine that
cannot load a model makes every step draw again, a damaged or hostile pack imports
nothing, and the HTML export holds every chart with no network reference.

The activations are synthetic and planted under the demo's own activation key (a deck
names runs as links do, so its runs are the demo's): the truth is one direction, so on
balanced data every probe finds it and the answers are known.
"""

from __future__ import annotations

import hashlib
import json
import re
import zipfile
from pathlib import Path

import pytest

import core.extraction.extract
import core.extraction.models
from core.errors import UserError
from core.store.sweeps import SweepStore
from core.story.deck import deck_by_name, parse_deck
from core.story.pack import pack, unpack
from core.story.registry import STEP_TYPES, compute, missing, slide
from core.story.results import Results
from core.story.talk_html import deck_html
from tests.planted import DECK, RUN, pack_planted, plant_demo_activations, sweep_runner


@pytest.fixture
def no_model(monkeypatch):
    """A machine where no model can be loaded or extracted from."""

    def refuse(*args, **kwargs):
        raise AssertionError("a model was needed")

    monkeypatch.setattr(core.extraction.models, "load_model", refuse)
    monkeypatch.setattr(core.extraction.extract, "extract", refuse)


def test_every_step_type_draws_from_the_cache_and_nothing_is_computed_twice(planted_deck):
    deck, results = planted_deck
    # every step type but the across-models one, which needs two models' activations (the next test)
    assert {step.type for step in deck.steps} == set(STEP_TYPES) - {"models"}
    assert missing(deck, results) == ([], [])
    assert compute(deck, results, sweep_runner(results.root)) == 0
    for step in deck.steps:
        shown = slide(step, results)
        assert shown is not None
        assert (shown.chart is not None) == (step.type != "text")
    inspector = slide(deck.steps[2], results)
    assert inspector.pair is not None and inspector.pair.example_id.startswith("rt-")
    # planted truth: at p = 0.5 every trained probe is right, well above chance
    sweep = results.sweep(deck.steps[1].configs())
    balanced = sweep.table[(sweep.table.p == 0.5) & (sweep.table.method != "random")]
    assert balanced.accuracy.min() > 0.9


def test_the_across_models_step_draws_a_panel_per_model_from_the_cache(isolated_cache):
    deck = parse_deck(
        f"""[[steps]]\ntype = "models"\ntitle = "Across models"\nrun = {RUN}\nmodels = ["smollm2-135m", "gemma3-270m"]
depths = ["middle", 2]\nmethods = ["ccs", "lr_norm"]\n""",
        "models.toml",
    )
    step = deck.steps[0]
    runs = step.runs()
    assert [sweep.layer for _, sweep in runs] == [15, 2, 9, 2]  # the middle of 30 and of 18 layers
    for extract in dict.fromkeys(extract for extract, _ in runs):
        plant_demo_activations(isolated_cache, config=extract, layers=extract.layers)
    results = Results(isolated_cache)
    assert slide(step, results) is None  # nothing computed yet
    assert compute(deck, results, sweep_runner(isolated_cache)) == 4
    shown = slide(step, results)
    spec = shown.chart.to_dict()
    marks = {row["Cell"] for row in spec["datasets"][spec["data"]["name"]]}  # a mark's shape per model and layer
    assert marks == {
        "SmolLM2-135M-Instruct · layer 15 (middle)",
        "SmolLM2-135M-Instruct · layer 2",
        "Gemma 3 270M · layer 9 (middle)",
        "Gemma 3 270M · layer 2",
    }
    assert shown.caption.startswith("Models: SmolLM2-135M-Instruct, Gemma 3 270M, each at the layer the legend names.")
    assert "layer 15" not in shown.caption  # the legend, not the caption, says which layer


def test_pack_then_unpack_into_an_empty_cache_with_no_model_draws_every_step(
    planted_deck, tmp_path, monkeypatch, no_model
):
    deck, results = planted_deck
    (tmp_path / "talk.toml").write_text(DECK)
    report = pack(str(tmp_path / "talk.toml"), tmp_path / "talk.zip", root=results.root)
    with zipfile.ZipFile(tmp_path / "talk.zip") as archive:
        names = archive.namelist()
    assert not any("activations" in name or (name.endswith(".safetensors") and "sweeps/" not in name) for name in names)
    assert report.runs == 5 and report.views == 3 and report.size_bytes == (tmp_path / "talk.zip").stat().st_size

    elsewhere = tmp_path / "elsewhere"
    name, imported, report = unpack(tmp_path / "talk.zip", root=elsewhere)
    assert name == f"{report.pack}/talk" and re.fullmatch(r"talk-[0-9a-f]{8}", report.pack)
    assert not (elsewhere / "activations").exists() and not (elsewhere / "sweeps").exists()  # kept apart
    reopened = deck_by_name(name, root=elsewhere)
    assert reopened.pins == imported.pins and len(reopened.pins) == 5 and reopened.pack.id == report.pack
    there = Results.of_deck(reopened, elsewhere)
    for step in reopened.steps:
        shown = slide(step, there)
        assert shown is not None, step.title
        assert shown.origin.startswith(f"from pack {report.pack}, imported ") or not step.shows_results
    original = results.sweep(deck.steps[1].configs()).table
    assert there.sweep(reopened.steps[1].configs()).table.equals(original)


def test_pins_find_results_stored_under_another_machines_keys(planted_deck, tmp_path, monkeypatch):
    _deck, results = planted_deck
    (tmp_path / "talk.toml").write_text(DECK)
    pack(str(tmp_path / "talk.toml"), tmp_path / "talk.zip", root=results.root)
    name, _deck, _report = unpack(tmp_path / "talk.zip", root=tmp_path / "there")
    # another machine computes other activation keys (say, another dtype): only the pins find the results
    monkeypatch.setattr("core.story.results.activation_key", lambda config, device="auto": "f" * 64)
    reopened = deck_by_name(name, root=tmp_path / "there")
    assert slide(reopened.steps[1], Results(tmp_path / "there")) is None
    assert slide(reopened.steps[1], Results.of_deck(reopened, tmp_path / "there")) is not None


def test_pack_refuses_a_deck_whose_results_are_missing_without_a_pipeline(isolated_cache, tmp_path):
    (tmp_path / "talk.toml").write_text(DECK)
    with pytest.raises(UserError, match="lacks 5 run"):
        pack(str(tmp_path / "talk.toml"), tmp_path / "talk.zip", root=isolated_cache)
    assert not (tmp_path / "talk.zip").exists()


def _rewrite(source: Path, target: Path, change) -> Path:
    """A copy of the pack `source` with its members passed through change(name, data)."""
    with zipfile.ZipFile(source) as archive, zipfile.ZipFile(target, "w") as out:
        for info in archive.infolist():
            for name, data in change(info.filename, archive.read(info)):
                out.writestr(name, data)
    return target


HOSTILE = {
    "not-a-zip": lambda zipped, tmp: (tmp / "x.zip").write_bytes(b"PK\x03\x04 nonsense") and tmp / "x.zip",
    "path-traversal": lambda zipped, tmp: _rewrite(
        zipped, tmp / "x.zip", lambda n, d: [(n, d)] + ([("../../evil.txt", b"x")] if n == "deck.toml" else [])
    ),
    "tampered-results": lambda zipped, tmp: _rewrite(
        zipped, tmp / "x.zip", lambda n, d: [(n, d.replace(b"0.", b"1.", 1) if n.endswith("results.csv") else d)]
    ),
    "no-manifest": lambda zipped, tmp: _rewrite(
        zipped, tmp / "x.zip", lambda n, d: [] if n == "manifest.json" else [(n, d)]
    ),
}


@pytest.mark.parametrize("case", list(HOSTILE))
def test_a_damaged_or_hostile_pack_imports_nothing(planted_deck, tmp_path, case):
    _deck, results = planted_deck
    (tmp_path / "talk.toml").write_text(DECK)
    pack(str(tmp_path / "talk.toml"), tmp_path / "talk.zip", root=results.root)
    bad = HOSTILE[case](tmp_path / "talk.zip", tmp_path)
    target = tmp_path / "target"
    with pytest.raises(UserError) as error:
        unpack(bad, root=target)
    assert "\n" not in str(error.value)
    assert not target.exists() or not any(target.rglob("*.*"))


def test_a_pack_whose_record_and_manifest_were_both_forged_is_refused(planted_deck, tmp_path):
    _deck, results = planted_deck
    (tmp_path / "talk.toml").write_text(DECK)
    pack(str(tmp_path / "talk.toml"), tmp_path / "talk.zip", root=results.root)
    import hashlib

    with zipfile.ZipFile(tmp_path / "talk.zip") as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    info_name = next(name for name in members if name.endswith("info.json"))
    info = json.loads(members[info_name])
    info["config"]["n_train"] = 99  # claims another experiment than its key says
    members[info_name] = json.dumps(info).encode()
    manifest = json.loads(members["manifest.json"])
    manifest["members"][info_name] = hashlib.sha256(members[info_name]).hexdigest()
    members["manifest.json"] = json.dumps(manifest).encode()
    with zipfile.ZipFile(tmp_path / "forged.zip", "w") as out:
        for name, data in members.items():
            out.writestr(name, data)
    with pytest.raises(UserError, match="does not match its record"):
        unpack(tmp_path / "forged.zip", root=tmp_path / "target")
    assert not (tmp_path / "target" / "sweeps").exists() and not (tmp_path / "target" / "imported").exists()


def test_the_html_export_holds_every_chart_inline_and_escapes_all_text(planted_deck):
    deck, results = planted_deck
    page = deck_html(deck, results)
    assert page.count("<section") == len(deck.steps)
    charts = [step for step in deck.steps if step.type != "text"]
    specs = json.loads(re.search(r"const specs = (\{.*?\});\n", page, re.S).group(1))
    assert sorted(specs) == sorted(f"chart-{i}" for i, step in enumerate(deck.steps, 1) if step in charts)
    assert all(spec["$schema"].startswith("https://vega.github.io") for spec in specs.values())  # a name, not a fetch
    assert "<b>there</b>" not in page and "&lt;b&gt;there&lt;/b&gt;" in page
    assert "Planted </script> talk" not in page
    assert not re.search(r"<script[^>]+src=|<link[^>]+href=|@import", page)  # nothing loaded from anywhere


def test_html_export_of_a_deck_with_missing_results_names_the_step(isolated_cache):
    deck = parse_deck(DECK, "planted.toml")
    with pytest.raises(UserError, match="Step 2 \\(Sweep\\)"):
        deck_html(deck, Results(isolated_cache))


def test_the_library_lists_each_run_once_and_names_what_differs(planted_deck):
    from core.experiments.runs import list_runs, record_labels

    deck, results = planted_deck
    records = list_runs(results.root)
    assert len(records) == 5  # the per-method parts kept for reuse are not listed
    base, train = (next(r for r in records if r.config == run[1]) for run in deck.steps[4].runs())
    assert record_labels([base, train]) == ["normalization mean, test: own", "normalization mean, test: train"]
    assert base.extraction["model_name"] == "planted"


def test_compare_on_the_command_line_writes_slide_sized_charts(planted_deck, tmp_path, capsys):
    import struct

    from core.__main__ import main
    from core.experiments.runs import list_runs

    deck, _results = planted_deck
    base, train = (next(r for r in list_runs() if r.config == run[1]) for run in deck.steps[4].runs())
    assert main(["compare", base.key[:8], train.key[:8], "--chart", str(tmp_path / "c.png"), "--facet", "method"]) == 0
    printed = capsys.readouterr().out
    assert "test: train" in printed and "CCS" in printed
    png = (tmp_path / "c.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and struct.unpack(">I", png[16:20])[0] >= 1920
    assert main(["compare", base.key[:8], train.key[:8], "--chart", str(tmp_path / "c.svg")]) == 0
    width = float(re.match(r'<svg[^>]* width="([0-9.]+)"', (tmp_path / "c.svg").read_text()).group(1))
    assert width >= 1920
    assert main(["compare", base.key[:8], "zzzzzz"]) == 2
    assert "is not a run key" in capsys.readouterr().err


def test_a_pack_that_unpacks_to_more_than_its_caps_is_refused_before_reading(planted_deck, tmp_path, monkeypatch):
    _deck, results = planted_deck
    (tmp_path / "talk.toml").write_text(DECK)
    pack(str(tmp_path / "talk.toml"), tmp_path / "talk.zip", root=results.root)
    monkeypatch.setattr("core.story.pack_checks.MAX_MEMBER_BYTES", 1000)  # a zip bomb, to scale
    with pytest.raises(UserError, match="more than a pack may hold"):
        unpack(tmp_path / "talk.zip", root=tmp_path / "target")
    assert not (tmp_path / "target").exists()


def test_a_pack_says_what_older_runs_were_extracted_from(planted_deck, tmp_path):
    from core.experiments.runs import describe_run, list_runs

    _deck, results = planted_deck
    for info_file in (results.root / "sweeps").glob("*/info.json"):  # stored before records carried it
        info = json.loads(info_file.read_text())
        info.pop("extraction")
        info_file.write_text(json.dumps(info))
    (tmp_path / "talk.toml").write_text(DECK)
    pack(str(tmp_path / "talk.toml"), tmp_path / "talk.zip", root=results.root)
    unpack(tmp_path / "talk.zip", root=tmp_path / "there")
    rows = [describe_run(record) for record in list_runs(tmp_path / "there")]
    assert len(rows) == 5 and {row["model"] for row in rows} == {"planted"}


def test_more_runs_than_colors_is_one_message():
    import pandas as pd

    from core.views.charts import compare_chart
    from core.views.palette import RUN_COLORS

    summary = pd.DataFrame(
        {
            "method": "ccs",
            "p": 0.5,
            "mean": 0.8,
            "ci_low": 0.7,
            "ci_high": 0.9,
            "n_seeds": 3,
            "metric": "accuracy",
            "run": [f"run {i}" for i in range(len(RUN_COLORS) + 1)],
        }
    )
    with pytest.raises(UserError, match="at most 8"):
        compare_chart(summary)


def packed(planted_deck, tmp_path, deck_text: str = DECK, name: str = "talk") -> Path:
    """The computed planted deck (or `deck_text` on the same runs) packed as NAME.zip."""
    return pack_planted(planted_deck[1], tmp_path, deck_text, name)


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_a_planted_pack_never_answers_this_machines_lookups(planted_deck, tmp_path):
    """Results a pack brings under this machine's own keys (planted, or honest) change nothing
    this machine computes or shows outside that pack's deck, and unpack replaces nothing."""
    deck, results = planted_deck
    zipped = packed(planted_deck, tmp_path)
    elsewhere = tmp_path / "elsewhere"  # a machine that has computed none of it
    _address, imported, _report = unpack(zipped, root=elsewhere)
    run = deck.steps[1].configs()
    assert Results(elsewhere).sweep(run) is None  # a shipped deck or a page: nothing found
    assert missing(deck, Results(elsewhere)) != ([], [])  # and the deck's own results would be computed here
    assert Results.of_deck(imported, elsewhere).sweep(run) is not None  # only its own deck reads it
    assert not SweepStore(elsewhere).root.exists()

    own = _snapshot(results.root / "sweeps") | _snapshot(results.root / "views")
    again_here, _, _ = unpack(zipped, root=results.root)  # into the machine that computed it all
    assert _snapshot(results.root / "sweeps") | _snapshot(results.root / "views") == own  # nothing replaced
    slides = [slide(step, Results.of_deck(deck_by_name(again_here), results.root)) for step in deck.steps]
    assert all(shown is not None and not shown.origin for shown in slides)  # this machine's own results first


def test_an_imported_deck_never_shadows_a_shipped_one(planted_deck, tmp_path, capsys):
    from core.__main__ import main
    from core.story.deck import deck_names

    zipped = packed(planted_deck, tmp_path, name="demo")  # a pack whose deck is called like the shipped demo
    address, _deck, report = unpack(zipped)
    assert address == f"{report.pack}/demo" and deck_by_name("demo").pack is None
    assert deck_by_name("demo").title != "Planted </script> talk"
    assert deck_names()[:3] == ["demo", "models", "remedies"] and deck_names()[-1] == address
    assert main(["decks"]) == 0
    shipped, imported = capsys.readouterr().out.split("imported:")
    assert "demo" in shipped and address not in shipped and address in imported


def test_the_same_pack_imports_once_and_removing_it_removes_what_it_brought(planted_deck, tmp_path, capsys):
    from core.__main__ import main
    from core.experiments.runs import delete_run, list_runs
    from core.store.imports import imported_packs

    _deck, results = planted_deck
    zipped = packed(planted_deck, tmp_path)
    own = _snapshot(results.root / "sweeps")
    _address, _deck, first = unpack(zipped)
    _address, _deck, again = unpack(zipped)
    assert not first.already and again.already and again.pack == first.pack and len(imported_packs()) == 1
    records = list_runs()
    assert len(records) == 10 and {r.origin for r in records if r.pack} == {imported_packs()[0].origin()}
    assert main(["runs", "--origin", "here"]) == 0 and main(["runs", "--origin", first.pack]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert len(printed) == 10 and sum("computed here" in line for line in printed) == 5
    with pytest.raises(UserError, match="remove the pack"):
        delete_run(next(r for r in records if r.pack))
    assert main(["packs", "--remove", first.pack]) == 0
    assert imported_packs() == [] and _snapshot(results.root / "sweeps") == own and len(list_runs()) == 5


PACK_CASES = {
    "pin-not-hex": lambda m, d: m["pins"].update({"../../etc": next(iter(m["pins"].values()))}),
    "pin-path": lambda m, d: m["pins"].update({k: ["../../x", v[1]] for k, v in m["pins"].items()}),
    "name-path": lambda m, d: m.update(name="../decks/demo"),
    "deck-over-its-cap": lambda m, d: d.update({"deck.toml": d["deck.toml"] + b"\n#" + b"x" * 300_000}),
    "results-over-its-config": lambda m, d: d.update(
        {k: v + b"\n" + b"9" * 2_000_000 for k, v in d.items() if k.endswith("results.csv")}
    ),
}


@pytest.mark.parametrize("case", list(PACK_CASES))
def test_every_manifest_key_and_member_is_held_to_its_format_and_cap(planted_deck, tmp_path, case):
    zipped = packed(planted_deck, tmp_path)
    with zipfile.ZipFile(zipped) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    manifest = json.loads(members.pop("manifest.json"))
    PACK_CASES[case](manifest, members)
    manifest["members"] = {name: hashlib.sha256(data).hexdigest() for name, data in members.items()}
    with zipfile.ZipFile(tmp_path / "bad.zip", "w") as out:
        out.writestr("manifest.json", json.dumps(manifest))
        for name, data in members.items():
            out.writestr(name, data)
    with pytest.raises(UserError) as error:
        unpack(tmp_path / "bad.zip", root=tmp_path / "target")
    assert "\n" not in str(error.value) and "nothing was imported" in str(error.value)
    assert not (tmp_path / "target").exists()

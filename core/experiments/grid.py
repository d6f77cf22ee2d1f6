"""Experiment grids: models x data sets (each with its template) x layers x
normalizations, one set of sweep settings and methods, run unattended.

Every extraction runs once and every sweep once, both in the content-addressed cache,
so a second run resumes where the first stopped and does no extraction. The output is one
tidy CSV (a sweep row per cell, with model, data set and extraction key) and one chart
(data set by model and layer, a line per method). A grid file is checked whole, every
combination against core.settings.validate, before anything runs.

The file is TOML:

```toml
title = "My grid"                       # optional
models = ["bundled", "gemma3-270m"]     # offline models (core.models), hub ids, or (owner) local folders
templates = ["one", "ensemble"]         # default ["one"]: each set's own template; "ensemble": all its
                                        # named ones together; "each": every named one on its own
layers = ["middle", "75%"]              # hidden-state indices, relative depths (per model), or "all"
normalizations = ["mean"]               # default ["mean"] (core.normalizations)
methods = ["tpc", "lr_norm"]            # default: the demo's (core.probes)
run = { p = "0.5,0.9", seeds = 3, n = 800 }   # link parameters on the demo preset
label_budget = true                     # default false: the label budget of every cell in summary.md
[[datasets]]
name = "rotten_tomatoes_snippets"       # a bundled set, with its template
[[datasets]]
source = "hf"                           # or a hub dataset / (owner) CSV file, with
name = "imdb"                           # split, text, label, positive, and the
split = "test"                          # template as prompt, pos, neg
prompt = 'Review: "{text}" Sentiment:'
```

Where the work runs is an executor: "inprocess" (core.experiments.grid_run, the default) or "ray"
(core.experiments.grid_ray).
"""

from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.config import BUNDLED, DatasetSpec, ExtractConfig, ModelSpec, Template
from core.data.bundled import bundled_set, named_templates
from core.data.ensembles import with_templates
from core.errors import UserError
from core.models import model_label, offline_model_id
from core.models.depth import is_depth, resolve_layer
from core.models.known import known_hidden_states
from core.names import local_or_id
from core.settings.limits import OWNER, Limits
from core.settings.links import run_from_params
from core.settings.schema import link_settings
from core.settings.sweep import SweepConfig
from core.settings.validate import check_layers_exist, check_run

MAX_GRID_BYTES = 64 * 1024
# The settings that are a grid's own axes (its models, data sets with their templates, layers,
# methods and normalizations), not its `run`'s; the run may set every other link parameter.
AXES = ("model", "dataset", "template.prompt", "template.positive", "template.negative")
AXES += ("layer", "layers", "methods", "normalization")


def _is_axis(path: tuple[str, ...]) -> bool:
    return any(".".join(path[:depth]) in AXES for depth in range(1, len(path) + 1))


RUN_KEYS = tuple(entry.param for entry in link_settings() if not _is_axis(entry.path))
DATASET_KEYS = ("name", "source", "config", "split", "text", "label", "positive", "prompt", "pos", "neg")
TOP_KEYS = ("title", "models", "datasets", "templates", "layers", "normalizations", "methods", "run", "label_budget")
ALL = "all"
# How a grid may read each data set (its `templates` axis): its own one template, the
# ensemble of all its named templates (core.data.templates), or each named one on its own.
ONE, ENSEMBLE, EACH = "one", "ensemble", "each"


@dataclass(frozen=True)
class Extraction:
    """One model x data set of a grid: what it is called in the results, its config, the
    layers it sweeps (the grid's, resolved for this model: None for all), with the
    relative depth each came from where the grid named depths, and how it reads the data
    set: "one" (its own template), "ensemble of k", or a named template's name."""

    model: str
    dataset: str
    config: ExtractConfig
    depths: tuple[tuple[int, str], ...] = ()  # (hidden-state index, depth as written)
    templates: str = ONE

    @property
    def layers(self) -> tuple[int, ...] | None:
        """The hidden-state indices this extraction holds and sweeps (None: every one)."""
        return self.config.layers


@dataclass(frozen=True)
class Grid:
    """A checked grid: its extractions, and the sweeps each runs (an extraction's layers
    None: every layer it holds, known once it exists)."""

    title: str
    extractions: tuple[Extraction, ...]
    normalizations: tuple[str, ...]
    sweep: SweepConfig
    notes: tuple[str, ...] = ()  # what parsing merged or renamed, one line each
    label_budget: bool = False  # core.analysis.label_budget per cell, in the summary

    def sweeps(self, layers: tuple[int, ...]) -> list[SweepConfig]:
        """The sweep of every layer of `layers` under every normalization."""
        return [
            dataclasses.replace(self.sweep, layer=layer, normalization=norm)
            for layer in layers
            for norm in self.normalizations
        ]


def _merged(values: list, what: str, notes: list[str], name=str) -> list:
    """`values` with repeats merged (first place kept), and a note for each value listed
    more than once: a repeated model, data set, layer, method or normalization would run
    the same cells twice and count their seeds twice."""
    counts: dict = {}
    for value in values:
        counts[value] = counts.get(value, 0) + 1
    notes += [
        f"{what} {name(value)} is listed {count} times; merged into one" for value, count in counts.items() if count > 1
    ]
    return list(counts)


def _unique_labels(labels: list[str], what: str, notes: list[str]) -> list[str]:
    """Labels that tell different entries apart in the results: a repeated label gets
    " (2)", " (3)", ... after its first use, with a note."""
    seen: dict[str, int] = {}
    unique = []
    for label in labels:
        seen[label] = seen.get(label, 0) + 1
        if seen[label] > 1:
            notes.append(
                f"{what} {label!r} names more than one entry; entry {seen[label]} is shown as '{label} ({seen[label]})'"
            )
            label = f"{label} ({seen[label]})"
        unique.append(label)
    return unique


def _list(raw: dict, key: str, where: str, default: list | None = None) -> list:
    value = raw.get(key, default)
    if not isinstance(value, list) or not value:
        raise UserError(f"{where}: {key} must be a non-empty list, got {value!r}.")
    return value


def _dataset(entry: Any, where: str, limits: Limits) -> tuple[str, DatasetSpec, Template | None]:
    """(label, spec, template or None for the set's own) of one [[datasets]] table."""
    if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
        raise UserError(f"{where}: each [[datasets]] table needs a name.")
    unknown = sorted(set(entry) - set(DATASET_KEYS))
    if unknown or not all(isinstance(v, str) for v in entry.values()):
        raise UserError(
            f"{where}: [[datasets]] takes text fields from {', '.join(DATASET_KEYS)}"
            + (f"; unknown: {unknown}" if unknown else "")
            + "."
        )
    source = entry.get("source", BUNDLED)
    name = entry["name"]
    if source == BUNDLED:
        spec, template = DatasetSpec(BUNDLED, name), bundled_set(name).template
    else:
        name = name if limits.shared or source != "csv" else str(Path(name).expanduser().resolve())
        spec = DatasetSpec(
            source,
            name if source == "csv" else local_or_id(name),
            entry.get("config"),
            entry.get("split", "train"),
            entry.get("text", "text"),
            entry.get("label", "label"),
            entry.get("positive"),
        )
        template = Template()
    changes = {
        field_: entry[key]
        for key, field_ in (("prompt", "prompt"), ("pos", "positive"), ("neg", "negative"))
        if key in entry
    }
    return Path(name).name, spec, dataclasses.replace(template, **changes)


def parse_grid(text: str, name: str = "grid", limits: Limits = OWNER) -> Grid:
    """A Grid from TOML text, every combination checked (UserError naming the file and field)."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise UserError(f"{name} is not valid TOML: {error}") from None
    unknown = sorted(set(raw) - set(TOP_KEYS))
    if unknown:
        raise UserError(f"{name}: unknown field(s) {unknown} (a grid has {', '.join(TOP_KEYS)}).")
    run = raw.get("run", {})
    if not isinstance(run, dict) or not all(
        isinstance(v, (str, int, float)) and not isinstance(v, bool) for v in run.values()
    ):
        raise UserError(f"{name}: run must be a table of link parameters, got {run!r}.")
    extra = sorted(set(run) - set(RUN_KEYS))
    if extra:
        raise UserError(
            f"{name}: run cannot set {extra} (it takes {', '.join(RUN_KEYS)}; models, datasets, layers, "
            "methods and normalizations are the grid's own fields)."
        )
    params = {key: str(value) for key, value in run.items()}
    try:
        base_extract, base_sweep = run_from_params(params, limits)
    except UserError as error:
        raise UserError(f"{name}: run: {error}") from None
    notes: list[str] = []
    models = _merged([_text(m, f"{name}: models") for m in _list(raw, "models", name)], "model", notes, repr)
    datasets = [
        _dataset(entry, f"{name}: datasets {i}", limits)
        for i, entry in enumerate(_list(raw, "datasets", name), start=1)
    ]
    datasets = _merged(datasets, "data set", notes, lambda entry: repr(entry[0]))
    dataset_labels = _unique_labels([label for label, _, _ in datasets], "data set", notes)
    model_labels = _unique_labels([model_label(model) for model in models], "model", notes)
    layers_raw = raw.get("layers", [base_sweep.layer])
    if layers_raw != ALL and not (
        isinstance(layers_raw, list)
        and layers_raw
        and all((isinstance(x, int) and not isinstance(x, bool)) or is_depth(x) for x in layers_raw)
    ):
        raise UserError(
            f'{name}: layers must be a list of hidden-state indices or depths (75%, middle, last), or "all", '
            f"got {layers_raw!r}."
        )
    layers_raw = layers_raw if layers_raw == ALL else _merged(layers_raw, "layer", notes)
    normalizations = tuple(
        _merged([_text(n, f"{name}: normalizations") for n in _list(raw, "normalizations", name, ["mean"])],
                "normalization", notes)
    )  # fmt: skip
    methods = tuple(
        _merged([_text(m, f"{name}: methods") for m in _list(raw, "methods", name, list(base_sweep.methods))],
                "method", notes)
    )  # fmt: skip
    modes = _merged([_text(m, f"{name}: templates") for m in _list(raw, "templates", name, [ONE])], "templates", notes)
    if set(modes) - {ONE, ENSEMBLE, EACH}:
        raise UserError(f"{name}: templates takes {ONE!r}, {ENSEMBLE!r} and {EACH!r}, got {modes!r}.")
    sweep = dataclasses.replace(base_sweep, methods=methods)
    extractions = []
    for model, label_of_model in zip(models, model_labels):
        spec = ModelSpec(model_id=offline_model_id(model) or (model if limits.shared else local_or_id(model)))
        layers, depths = model_layers(layers_raw, spec, label_of_model, name, notes)
        for (_, dataset, template), label in zip(datasets, dataset_labels):
            config = grid_extraction(base_extract, spec, dataset, template, layers)
            for mode in modes:
                for reading, read in readings(mode, config, dataset):
                    extractions.append(Extraction(label_of_model, label, read, depths, reading))
    title = _text(raw.get("title", name), f"{name}: title")
    budget = raw.get("label_budget", False)
    if not isinstance(budget, bool):
        raise UserError(f"{name}: label_budget takes true or false, got {budget!r}.")
    grid = Grid(title, tuple(extractions), normalizations, sweep, tuple(notes), budget)
    _check(grid, name, limits)
    return grid


def readings(mode: str, config: ExtractConfig, dataset: DatasetSpec) -> list[tuple[str, ExtractConfig]]:
    """The (name, config) of each way `mode` of a grid's `templates` reads one data set."""
    if mode == ONE:
        return [(ONE, config)]
    named = named_templates(dataset)
    if mode == ENSEMBLE:
        return [(f"{ENSEMBLE} of {len(named)}", with_templates(config, tuple(named)))]
    distractor = config.template.distractor
    return [
        (name, dataclasses.replace(config, template=dataclasses.replace(nt.template, distractor=distractor)))
        for name, nt in named.items()
    ]


def model_layers(
    layers_raw: list | str, spec: ModelSpec, label: str, name: str, notes: list[str]
) -> tuple[tuple[int, ...] | None, tuple[tuple[int, str], ...]]:
    """The grid's layers for one model: relative depths resolved through its depth (two
    depths that land on one layer of a shallow model are merged, with a note), and the
    (index, depth) of each depth."""
    if layers_raw == ALL:
        return None, ()
    hidden_states = known_hidden_states(spec) if any(is_depth(x) for x in layers_raw) else None
    resolved: dict[int, str | None] = {}
    for value in layers_raw:
        try:
            layer = resolve_layer(value, hidden_states, label)
        except UserError as error:
            raise UserError(f"{name}: {label}: {error}") from None
        if layer in resolved:
            notes.append(f"{label}: layers {resolved[layer] or layer} and {value} are both layer {layer}; merged")
            continue
        resolved[layer] = value if is_depth(value) else None
    return tuple(resolved), tuple((layer, depth) for layer, depth in resolved.items() if depth is not None)


def grid_extraction(
    base: ExtractConfig, model: ModelSpec, dataset: DatasetSpec, template: Template, layers: tuple[int, ...] | None
) -> ExtractConfig:
    """One cell of a grid: `base` (the run's settings) on `model` and `dataset` with the
    data set's `template` (keeping the run's distractor) and only `layers` extracted. A
    deck's across-models step builds its runs here too, so it finds a grid's results."""
    template = dataclasses.replace(template, distractor=base.template.distractor)
    return dataclasses.replace(base, model=model, dataset=dataset, template=template, layers=layers)


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value:
        raise UserError(f"{where} must be non-empty text, got {value!r}.")
    return value


def _check(grid: Grid, name: str, limits: Limits) -> None:
    """Every extraction with every sweep it will run, before anything loads."""
    for extraction in grid.extractions:
        known = known_hidden_states(extraction.config.model)
        layers = extraction.layers or ((grid.sweep.layer,) if known is None else tuple(range(known)))
        for sweep in grid.sweeps(layers):
            try:
                check_run(extraction.config, sweep, limits)
                check_layers_exist(extraction.config, sweep.layer, known)
            except UserError as error:
                raise UserError(f"{name}: {extraction.model} x {extraction.dataset}: {error}") from None


def load_grid(path: Path, limits: Limits = OWNER) -> Grid:
    """parse_grid of a file, refused if missing, too large or not UTF-8."""
    if not path.is_file():
        raise UserError(f"Grid file {path.name} does not exist.")
    if path.stat().st_size > MAX_GRID_BYTES:
        raise UserError(f"Grid file {path.name} is over {MAX_GRID_BYTES // 1024} KB.")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise UserError(f"Grid file {path.name} is not UTF-8 text.") from None
    return parse_grid(text, path.name, limits)

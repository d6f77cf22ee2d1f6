"""Every setting is declared once (core.config.setting) and the CLI, links, the reproduce command,
grid files and forms are made from it: this walks every setting and proves the round trips, so
a setting added later is covered without a line here."""

from __future__ import annotations

import ast
import math
import re
import shlex
from pathlib import Path

import pytest

from core.__main__ import build_parser
from core.cli.arguments import checked_run, extract_config_from, sweep_config_from
from core.cli.reproduce import command_line, run_arguments
from core.data.ensembles import with_templates
from core.errors import UserError
from core.experiments.grid import RUN_KEYS, parse_grid
from core.settings.limits import OWNER, SHARED
from core.settings.links import extract_from_params, run_from_params, sweep_from_params
from core.settings.presets import DEMO
from core.settings.schema import EXTRACT_SETTINGS, SETTINGS, SWEEP_SETTINGS, Entry, link_settings, option_settings
from core.settings.validate import high_of

# The settings no link carries, and why: a link never turns on remote code, and it carries
# a data set as one parameter (`data`) and the token position has one value.
ROOT = Path(__file__).resolve().parents[2]
NOT_IN_LINKS = {"trust_remote_code", "source", "name", "config", "split", "text_column", "label_column",
                "positive_label", "token_position"}  # fmt: skip


def other_value(entry: Entry):
    """A valid value of `entry` other than the demo's."""
    default = entry.get(DEMO[0] if entry in EXTRACT_SETTINGS else DEMO[1])
    if entry.name == "model_id":
        return "owner/model"
    if entry.choices is not None:
        return tuple(entry.choices[1:3]) if entry.many else next(c for c in entry.choices if c != default)
    if entry.many:
        if entry.kind is str:
            return ("Banana", "Shed")
        return (0.3, 0.7) if entry.kind is float else (1, 3)
    if entry.kind is int:
        return int(entry.about.bound.low) + 3
    if entry.kind is float:
        return entry.about.bound.low + (entry.about.bound.high - entry.about.bound.low) / 4
    if entry.kind is str:
        return 'Is "{text}" not' if "prompt" in entry.name else "v2"
    raise AssertionError(f"no test value for {entry.path}")


def changed(entry: Entry):
    """The demo run with `entry` set to another value."""
    extract, sweep = DEMO
    value = other_value(entry)
    if entry.name == "templates":  # an ensemble of the demo set's named templates, in its one form
        return with_templates(extract, ("tone", "sentiment")), sweep
    return (entry.set(extract, value), sweep) if entry in EXTRACT_SETTINGS else (extract, entry.set(sweep, value))


LINKED = list(link_settings())
IDS = [".".join(entry.path) for entry in LINKED]


def test_every_setting_is_in_links_or_says_why_not():
    assert {entry.name for entry in SETTINGS.values() if not entry.param} == NOT_IN_LINKS
    assert all(entry.flag for entry in LINKED)  # and a command reproduces whatever a link carries


@pytest.mark.parametrize("entry", LINKED, ids=IDS)
def test_config_link_config(entry):
    from core.settings.links import extract_to_params, sweep_to_params

    extract, sweep = changed(entry)
    params = {**extract_to_params(extract), **sweep_to_params(sweep)}
    assert list(params) == [entry.param]
    assert run_from_params(params) == (extract, sweep)


@pytest.mark.parametrize("entry", LINKED, ids=IDS)
def test_config_command_config(entry):
    extract, sweep = changed(entry)
    arguments = run_arguments(extract, sweep)
    words = shlex.split(command_line("sweep", arguments))
    args = build_parser().parse_args(words[3:])
    assert (extract_config_from(args), sweep_config_from(args)) == (extract, sweep)


def too_big(entry: Entry) -> str:
    """Text one past the top of `entry`'s bound (its count's, for a list), as a link writes it."""
    about = entry.about
    if entry.many and about.count is not None:
        items = int(high_of(about.count, OWNER)) + 1
        if about.range_count:
            return str(items)
        return ",".join(str(0.5 + i / (4 * items)) if entry.kind is float else str(i) for i in range(items))
    high = about.bound.high
    return "1" if about.bound.open else (str(int(high) + 1) if about.bound.whole else f"{high * 2:g}")


BOUNDED = [entry for entry in LINKED if entry.about.bound or entry.about.count]


@pytest.mark.parametrize("entry", BOUNDED, ids=[".".join(e.path) for e in BOUNDED])
def test_out_of_bounds_is_refused_with_the_label_everywhere(entry, tmp_path):
    text = too_big(entry)
    with pytest.raises(UserError, match=entry.label.replace("(", r"\(").replace(")", r"\)")):
        run_from_params({entry.param: text})
    args = build_parser().parse_args(["sweep", entry.flag, text])
    with pytest.raises(UserError, match=entry.label.replace("(", r"\(").replace(")", r"\)")):
        checked_run(args)
    if entry.param in RUN_KEYS:
        grid = (
            f'models = ["bundled"]\n[run]\n{entry.param} = "{text}"\n[[datasets]]\nname = "rotten_tomatoes_snippets"\n'
        )
        with pytest.raises(UserError, match=entry.label.replace("(", r"\(").replace(")", r"\)")):
            parse_grid(grid, "g.toml")


def test_a_shared_server_caps_what_it_declares():
    capped = [entry for entry in SETTINGS.values() if (entry.about.count or entry.about.bound or None)
              and (entry.about.count or entry.about.bound).shared_high is not None]  # fmt: skip
    assert {entry.name for entry in capped} >= {"n_examples", "seeds", "epochs", "restarts", "max_tokens"}
    for entry in capped:
        bound = entry.about.count or entry.about.bound
        over = int(bound.shared_high) + 1
        text = str(over)
        parse = extract_from_params if entry in EXTRACT_SETTINGS else sweep_from_params
        parse({entry.param: text})  # the owner's machine takes it
        with pytest.raises(UserError, match="on this shared server"):
            parse({entry.param: text}, limits=SHARED)


class Recorder:
    """A stand-in for a Streamlit container that records the widget a form asks for."""

    def __getattr__(self, widget):
        def record(label, *args, **options):
            self.widget, self.label, self.args, self.options = widget, label, args, options
            return None

        return record


@pytest.mark.parametrize("name", ["n_train", "n_test", "layer", "seeds", "epochs", "lr", "restarts", "n_examples"])
def test_a_form_field_takes_exactly_the_settings_bounds(name, monkeypatch):
    import ui.forms

    monkeypatch.setattr(ui.forms, "limits", lambda: SHARED)
    entry, container = SETTINGS[name], Recorder()
    value = entry.get(DEMO[0] if entry in EXTRACT_SETTINGS else DEMO[1])
    ui.forms.setting_input(container, name, value, "k")
    bound = entry.about.count or entry.about.bound
    assert container.widget == "number_input" and container.label == entry.label
    low, high = container.args[:2]
    assert math.isclose(low, bound.low) and math.isclose(high, high_of(bound, SHARED))


def test_a_choice_setting_is_a_select_box_of_its_choices():
    import ui.forms

    container = Recorder()
    ui.forms.setting_input(container, "test_normalization", "own", "k")
    assert container.widget == "selectbox" and tuple(container.args[0]) == SETTINGS["test_normalization"].choices


def test_every_option_is_one_setting():
    flags = [entry.flag for entry in option_settings()]
    assert len(flags) == len(set(flags))
    assert set(SWEEP_SETTINGS) | set(EXTRACT_SETTINGS) >= set(option_settings())


def string_literals(path) -> set[str]:
    """The string constants of a module, docstrings left out."""
    tree = ast.parse(path.read_text())
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    return {
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
    }


SOURCES = sorted(path for folder in ("core", "ui") for path in (ROOT / folder).rglob("*.py"))


def test_each_option_of_the_command_line_is_written_in_one_file():
    parser = build_parser()
    flags = {
        flag
        for action in parser._subparsers._group_actions[0].choices.values()
        for option in action._actions
        for flag in option.option_strings
        if flag.startswith("--") and flag != "--help"  # argparse's own
    }
    texts = {path: path.read_text() for path in SOURCES}
    written = {
        flag: [path.name for path, text in texts.items() if re.search(re.escape(flag) + r"(?![a-z0-9-])", text)]
        for flag in flags
    }
    assert {flag: files for flag, files in written.items() if len(files) > 1} == {}


@pytest.mark.parametrize("name", ["n_train", "n_test", "split_seed", "p_levels", "n_examples", "epochs"])
def test_a_settings_name_is_written_in_at_most_three_files(name):
    assert len([path for path in SOURCES if name in string_literals(path)]) <= 3


def test_no_function_of_core_takes_more_than_eight_parameters_or_a_shared_flag():
    crowded = []
    for path in (ROOT / "core").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                args = node.args
                names = [
                    a.arg for a in (*args.posonlyargs, *args.args, *args.kwonlyargs) if a.arg not in ("self", "cls")
                ]
                names += [a.arg for a in (args.vararg, args.kwarg) if a is not None]
                if len(names) > 8 or "shared" in names:
                    crowded.append(f"{path.relative_to(ROOT)}:{node.name}")
    assert crowded == []

"""Every setting of a run, read from its declaration beside its field (core.config.setting):
the one list that the command line's options, the checks, links, the reproduce command,
grid files and the dashboard's form widgets are made from."""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
from dataclasses import dataclass
from typing import Any, Literal

from core.config import Bound, ExtractConfig, Setting
from core.settings.sweep import SweepConfig


@dataclass(frozen=True)
class Entry:
    """One setting: where it sits in its config (`path`, e.g. ("ccs", "epochs")), its
    declaration, and what its annotation says: the kind of its value (or of each item
    when `many`), whether it may be None, and the values it may take."""

    path: tuple[str, ...]
    about: Setting
    kind: type
    many: bool
    variadic: bool
    optional: bool
    choices: tuple[str, ...] | None

    @property
    def name(self) -> str:
        return self.path[-1]

    @property
    def label(self) -> str:
        return self.about.label

    @property
    def flag(self) -> str:
        """The command-line option ("" for none)."""
        return "--" + self.name.replace("_", "-") if self.about.flag is None else self.about.flag

    @property
    def dest(self) -> str:
        """The attribute argparse stores the flag's value under."""
        return self.flag.lstrip("-").replace("-", "_")

    @property
    def param(self) -> str:
        """The link parameter ("" for none)."""
        return self.name if self.about.param is None else self.about.param

    def get(self, config: Any) -> Any:
        for name in self.path:
            config = getattr(config, name)
        return config

    def set(self, config: Any, value: Any) -> Any:
        """`config` with this setting replaced by `value` (its nested configs rebuilt)."""
        return _replace(config, self.path, value)


def _replace(config: Any, path: tuple[str, ...], value: Any) -> Any:
    head, *rest = path
    inner = _replace(getattr(config, head), tuple(rest), value) if rest else value
    return dataclasses.replace(config, **{head: inner})


def _shape(hint: Any) -> tuple[type, bool, bool, bool, tuple[str, ...] | None]:
    """(kind, many, variadic, optional, choices) of an annotation such as `tuple[int, ...] | None`:
    a list's items' kind, whether it is a list, of any length (not a fixed pair)."""
    optional = False
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        args = [arg for arg in typing.get_args(hint) if arg is not type(None)]
        optional, hint = True, args[0]
    many = variadic = False
    if typing.get_origin(hint) is tuple:
        items = typing.get_args(hint)
        many, variadic, hint = True, items[-1] is Ellipsis, items[0]
    if typing.get_origin(hint) is Literal:
        return str, many, variadic, optional, typing.get_args(hint)
    return hint, many, variadic, optional, None


def entries_of(cls: type, prefix: tuple[str, ...] = ()) -> tuple[Entry, ...]:
    """The settings of config class `cls`, nested configs' included, in field order."""
    hints = typing.get_type_hints(cls)
    found: list[Entry] = []
    for spec in dataclasses.fields(cls):
        hint = hints[spec.name]
        if dataclasses.is_dataclass(hint):
            found += entries_of(hint, (*prefix, spec.name))
        elif "setting" in spec.metadata:
            about = spec.metadata["setting"]
            kind, many, variadic, optional, choices = _shape(hint)
            found.append(Entry((*prefix, spec.name), about, kind, many, variadic, optional, about.choices or choices))
    return tuple(found)


EXTRACT_SETTINGS = entries_of(ExtractConfig)
SWEEP_SETTINGS = entries_of(SweepConfig)
SETTINGS = {entry.name: entry for entry in (*EXTRACT_SETTINGS, *SWEEP_SETTINGS)}


@functools.cache
def bound_of(name: str) -> Bound:
    """The range of a numeric setting, or of how many values a list of them takes."""
    about = SETTINGS[name].about
    return about.count or about.bound


def grouped(entries: tuple[Entry, ...], group: str) -> tuple[Entry, ...]:
    """The settings of `entries` declared in `group`, in field order."""
    return tuple(entry for entry in entries if entry.about.group == group)


def link_settings() -> tuple[Entry, ...]:
    """The settings a link carries, each under its own parameter."""
    return tuple(entry for entry in SETTINGS.values() if entry.param)


def option_settings() -> tuple[Entry, ...]:
    """The settings the command line sets, each with its own option."""
    return tuple(entry for entry in SETTINGS.values() if entry.flag)

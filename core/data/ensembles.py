"""A template ensemble as configs: the one extraction per named template that an
ExtractConfig with `templates` stands for, and that config in its one canonical form."""

from __future__ import annotations

import dataclasses

from core.config import ExtractConfig
from core.data.bundled import named_template, named_templates
from core.errors import UserError


def ensemble_members(config: ExtractConfig) -> tuple[ExtractConfig, ...]:
    """The extraction of each template of `config`'s ensemble, in its order: `config` with
    that template and no ensemble, so each is cached (and found) as a one-template run."""
    if len(config.templates) == 1:
        raise UserError(
            "A template ensemble needs at least two templates; for one, use the template "
            f"{config.templates[0]!r} alone."
        )
    if config.templates and config.template.distractor is not None:
        raise UserError("A template ensemble takes no distractor words; run them on one template.")
    return tuple(
        dataclasses.replace(config, template=named_template(config.dataset, name), templates=())
        for name in config.templates
    )


def with_templates(config: ExtractConfig, templates: tuple[str, ...]) -> ExtractConfig:
    """`config` as an ensemble of `templates` (none: its one template), its `template` the
    ensemble's first, so two configs naming the same ensemble are one run under one key.
    It checks nothing: core.settings.validate says what is wrong with a bad list."""
    config = dataclasses.replace(config, templates=tuple(templates))
    family = named_templates(config.dataset)
    if config.templates and config.templates[0] in family:  # else the checks name what is wrong
        config = dataclasses.replace(config, template=family[config.templates[0]].template)
    return config

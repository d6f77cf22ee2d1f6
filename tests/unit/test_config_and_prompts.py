"""Canonical JSON and keys, config round trips, and templates."""

from __future__ import annotations

import hashlib
import subprocess
import sys

import pytest

from core.config import ExtractConfig, Template, canonical_json, config_hash, from_dict, to_jsonable
from core.data.prompts import render_pair, validate_template
from core.errors import UserError
from core.settings.sweep import SweepConfig


def test_hash_is_sha256_of_sorted_compact_json():
    config = SweepConfig(p_levels=(0.5, 0.9), seeds=(1, 2))
    text = canonical_json(config)
    assert text.startswith('{"ccs":{"epochs":1000') and " " not in text.replace("review is", "")
    assert config_hash(config) == hashlib.sha256(text.encode()).hexdigest()
    assert config_hash(config) != config_hash(SweepConfig(p_levels=(0.5, 0.91), seeds=(1, 2)))


def test_key_is_the_same_in_another_process_with_another_hash_seed():
    code = "from core.config import ExtractConfig, config_hash; print(config_hash(ExtractConfig()))"
    outputs = {
        subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            check=True,
            env={"PYTHONHASHSEED": seed, "PATH": ""},
            cwd=".",
        ).stdout.strip()
        for seed in ("1", "2")
    }
    assert outputs == {config_hash(ExtractConfig())}


def test_from_dict_inverts_to_jsonable_and_rejects_typos():
    config = SweepConfig(layer=5, p_levels=(0.5, 0.75), methods=("ccs", "tpc"))
    assert from_dict(SweepConfig, to_jsonable(config)) == config
    extract = ExtractConfig(layers=(1, 2))
    assert from_dict(ExtractConfig, to_jsonable(extract)) == extract
    with pytest.raises(ValueError, match="no field"):
        from_dict(SweepConfig, {"layr": 3})


def test_render_pair_substitutes_literally():
    template = Template(prompt='Review: "{text}" Sentiment:', positive=" good", negative=" bad")
    assert render_pair(template, "braces {0} stay") == (
        'Review: "braces {0} stay" Sentiment: good',
        'Review: "braces {0} stay" Sentiment: bad',
    )


@pytest.mark.parametrize(
    "template, message",
    [
        (Template(prompt="no slot"), "exactly one"),
        (Template(prompt="{text} {text}"), "it has 2"),
        (Template(positive=" same", negative=" same"), "identical"),
        (Template(positive=" "), "non-empty"),
    ],
)
def test_bad_templates_are_refused(template, message):
    with pytest.raises(UserError, match=message):
        validate_template(template)

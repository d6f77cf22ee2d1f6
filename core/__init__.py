"""CCS Imbalance Lab: contrast-pair probes (CCS and baselines) on language-model hidden
states, and how the ground-truth label balance of their training data changes them.

The public API is `__all__` below: the configs, an activation set (extracted here,
imported from an activation file, or loaded), a sweep and its result, one
scikit-learn-style estimator per method, and the errors a caller may catch. Each name is
imported on first use (PEP 562): the whole library costs about 5 s to import (torch,
transformers, altair), which `import core.config` in a worker or the CLI's --help should not pay.

Stage packages, each depending only on those below it (pyproject.toml's import-linter
contract keeps the order):

    cli          python -m core (and the ccs-lab command), one module per command group
    api | story  the public API's objects (activation sets, sweeps, estimators); decks,
                 step types, packs, the one-file HTML talk
    views        charts, provenance text, exports
    analysis     mechanism, theory, examples, remedies, distractors
    experiments  the sweep engine, pipeline, layer scans, grids (and Ray), the runs library
    extraction   loading a model, the forward pass, extraction, companion prompts
    settings     bounds and checks, presets, link parameters
    normalizations  per-side normalizations and remedies (the label-free ones read a
                 probe's objective to estimate the classes)
    data | models | store | probes   (independent of each other; models: the offline
                 models' registry, depths, conversion)
    config | metrics | names | paths        (the foundation, over errors)

The library never imports streamlit; the dashboard (app.py, app_pages/, ui/) sits on top of it.
"""

import importlib

__version__ = "0.1.0"

# Each public name and the module that defines it.
_PUBLIC = {
    # what to extract and how to sweep it, and how work runs on this machine
    "ExtractConfig": "core.config",
    "ModelSpec": "core.config",
    "DatasetSpec": "core.config",
    "Template": "core.config",
    "CCSConfig": "core.config",
    "SweepConfig": "core.settings.sweep",
    "Runtime": "core.extraction.runtime",
    # activation sets: extracted here, imported from an activation file, or loaded
    "ActivationSet": "core.store.activations",
    "extract": "core.api.activations",
    "import_activations": "core.api.activations",
    "load_activations": "core.api.activations",
    "write_activation_file": "core.store.activation_files",
    # sweeps and their results
    "sweep": "core.api.sweeps",
    "load_run": "core.api.sweeps",
    "Sweep": "core.api.sweeps",
    # one estimator per method of the registry (core.probes)
    "CCS": "core.api.estimators",
    "SubspaceCCS": "core.api.estimators",
    "TPC": "core.api.estimators",
    "VINC": "core.api.estimators",
    "EMBalancedTPC": "core.api.estimators",
    "EMBalancedVINC": "core.api.estimators",
    "RawLogistic": "core.api.estimators",
    "NormalizedLogistic": "core.api.estimators",
    "MassMean": "core.api.estimators",
    "LDA": "core.api.estimators",
    "RandomDirection": "core.api.estimators",
    # the errors a caller may catch
    "UserError": "core.errors",
    "BadActivationFile": "core.store.activation_files",
}
__all__ = ["__version__", *_PUBLIC]


def __getattr__(name: str):
    if name not in _PUBLIC:
        raise AttributeError(f"module 'core' has no attribute {name!r}")
    value = getattr(importlib.import_module(_PUBLIC[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))

"""CCS Imbalance Lab: contrast-pair probes (CCS and baselines) on language-model hidden
states, and how the ground-truth label balance of their training data changes them.

Stage packages, each depending only on those below it (pyproject.toml's import-linter
contract keeps the order):

    cli          python -m core, one module per command group
    story        decks, step types, packs, the one-file HTML talk
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

__version__ = "0.1.0"

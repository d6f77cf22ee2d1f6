"""The public API's objects, the ones `core/__init__.py` exports: at the top of the library,
beside story, over everything a notebook reaches through them.

- activations: extract, import_activations, load_activations
- sweeps: sweep, load_run and the Sweep a sweep returns
- estimators: every method of the registry as a scikit-learn-style estimator
"""

"""Probes trained across the imbalance: the sweep engine and what runs it.

- sweep: run_sweep, every method at every level of p and seed on one layer, cached
- training: how one sweep's cells are trained and scored on the test split
- cells: what a sweep holds (SweepResult, each cell's LinearProbe) and how it is stored
- layers: the same sweep at each of several layers (the layer scan)
- pipeline: extraction then sweep, the path the CLI and the dashboard take
- grid, grid_plan, grid_ray: models x data sets x layers x normalizations, planned first,
  in process or on Ray
- runs: the library of finished runs in the cache
"""

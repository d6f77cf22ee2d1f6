"""What a run may be set to, checked before anything is loaded.

- sweep: the sweep's settings (SweepConfig), which name the method and normalization registries
- validate: every bound and rule of the extraction and sweep settings (BOUNDS), with
  shared mode's tighter caps
- presets: named starting points (the demo) and the named CCS optimizers
- links: configs to and from the parameters that links, decks and grids are written in
"""

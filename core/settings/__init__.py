"""What a run may be set to, checked before anything is loaded.

- schema: every setting of a run, read from its declaration beside its field, which the
  CLI, checks, links, the reproduce command, grids and forms are made from
- limits: what a server lets a run ask for (the owner's machine, or a shared one)
- sweep: the sweep's settings (SweepConfig), which name the method and normalization registries
- validate: every rule a run's settings must meet, each setting's bounds and a shared
  server's tighter caps among them
- presets: named starting points (the demo) and the named CCS optimizers
- links: configs to and from the parameters that links, decks and grids are written in
"""

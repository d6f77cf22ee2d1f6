"""The command line, `python -m core COMMAND`: one module per command group, each adding
its commands with `register(subparsers)` (core/__main__.py only builds the parser and
dispatches).

- arguments: the options that choose a run, and the configs they make
- output: progress bars, status lines, output-path checks
- reproduce: the one command that reproduces a dashboard view, from its link parameters
- assets: `assets`; experiments: `extract`, `sweep`, `layers`; analysis: `inspect`,
  `remedies`; budget: `label-budget`; runs: `runs`, `compare`; story: `pack`, `unpack`, `present`, `decks`,
  `packs`; grid: `grid`
"""

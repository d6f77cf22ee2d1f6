"""Story mode: a talk as data, drawn from cached results.

- model: Step, Deck and StepType, what a deck is made of
- options: the checks of a step's fields (every one names the field it refuses)
- results: where steps find their numbers (sweeps, measured views, a pack's pins)
- slides: what a step shows (Slide, Pair)
- steps/: one module per step type, each defining its StepType
- registry: STEP_TYPES, and what a deck lacks and how it is computed
- deck: deck files (TOML) parsed, found by name, shipped in decks/ or imported
- pack: a deck and every result it draws in one zip, and its import
- pack_checks: the border a pack crosses first: caps while it streams, schemas, checksums
- talk_html: a deck as one self-contained HTML file
"""

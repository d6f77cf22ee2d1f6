"""Content-addressed stores: every entry is keyed by the sha256 of the canonical JSON of what
produced it, written into a staging folder and renamed into place, checksummed block by
block, and loaded without pickle. A damaged entry is set aside and recomputed, never used.

- entries: what every store shares (keys, checksums, locks, atomic publish, quarantine)
- activations: ActivationSet and ActivationStore (hidden states, streamed to disk)
- sweeps: SweepStore (a sweep's table and probes)
- views: ViewStore (the small tables a deck step measures)
- imports: imported packs, each in a folder of its own, apart from what was computed here
- schema: what a file from another machine is checked against (JSON Schemas, table columns)
- tensor_stream: a safetensors file checked while it streams, never held whole
"""

"""Hidden states from a language model: the second stage of the lab.

- runtime: Runtime, how work runs here (device, batch size, stores, model loader, uploads,
  a server's limits, progress), made once by the CLI or the dashboard and handed down whole
- models: loading a model and tokenizer (an offline model through core.models), device
  and dtype, memory checks
- forward: the batched forward pass that reads the last token of x+ and x-, run only
  as deep as the deepest layer asked for
- extract: extract(), which streams an extraction into the activation store
- companions: the extra pairs a normalization asks for, extracted alongside
"""

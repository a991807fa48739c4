# Two commands do everything on a fresh machine:
#   make demo   -> set up .venv and run the whole chain on config/config.yaml (CPU, ~17 min on 2 cores)
#   make test   -> set up .venv and run the tests
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export PATH := $(abspath $(BIN)):$(PATH)
CORES ?= 2

.PHONY: setup demo test dryrun-paper report figures clean

$(BIN)/snakemake: requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements.txt
	$(BIN)/pip install -q --no-deps -e .
	touch $(BIN)/snakemake

setup: $(BIN)/snakemake

demo: setup
	$(BIN)/snakemake --cores $(CORES) --profile profiles/local

test: setup
	$(BIN)/python -m pytest -q -rs

dryrun-paper: setup
	$(BIN)/snakemake -n --configfile config/paper.yaml

figures: setup
	$(BIN)/snakemake --cores $(CORES) --profile profiles/local figures

report: setup
	$(BIN)/snakemake --cores 1 --report report.html

clean:
	rm -rf results logs .snakemake report.html

# Two commands do everything on a fresh machine:
#   make demo   -> set up .venv and run the whole chain on config/config.yaml (CPU, ~13 min on 2 cores)
#   make test   -> set up .venv and run the tests
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export PATH := $(abspath $(BIN)):$(PATH)
CORES ?= 2

.PHONY: setup demo test dryrun-paper report figures clean slurm-profile slurm-resources config-reference

$(BIN)/snakemake: requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements.txt
	$(BIN)/pip install -q --no-deps -e .
	touch $(BIN)/snakemake

setup: $(BIN)/snakemake

demo: setup
	$(BIN)/snakemake --cores $(CORES) --profile profiles/local

# two workers (pytest-xdist), one test file each at a time: most slow tests wait on subprocesses (Snakemake, SLURM)
test: setup
	$(BIN)/python -m pytest -q -rs -n 2 --dist loadfile --durations=15

dryrun-paper: setup
	$(BIN)/snakemake -n --configfile config/paper.yaml

figures: setup
	$(BIN)/snakemake --cores $(CORES) --profile profiles/local figures

report: setup
	$(BIN)/snakemake --cores 1 --report report.html

# the one set-up step of a SLURM user: `snakemake --profile slurm` finds profiles/slurm under its name
SNAKEMAKE_PROFILES ?= $(or $(XDG_CONFIG_HOME),$(HOME)/.config)/snakemake
slurm-profile:
	mkdir -p $(SNAKEMAKE_PROFILES)
	ln -sfn $(abspath profiles/slurm) $(SNAKEMAKE_PROFILES)/slurm
	@echo "profile installed: $(SNAKEMAKE_PROFILES)/slurm -> $(abspath profiles/slurm); now: snakemake --profile slurm"

# suggested runtime/mem_mb per rule for profiles/slurm from the benchmark records of a finished run
slurm-resources: setup
	$(BIN)/python -m linmr.sizing results/benchmarks

config-reference: setup
	$(BIN)/python -m linmr.config > config/README.md

clean:
	rm -rf results logs .snakemake report.html

# Two commands on a fresh machine:  make test  |  make reproduce
# Both create .venv if it is missing and install the project into it first.
VENV   ?= .venv
PY     := $(VENV)/bin/python
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
PYTHON ?= python3

.PHONY: install test test-fast lint reproduce smoke clean-results bench-ci reference lab

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

test: $(STAMP)
	$(BIN)/pytest -n 2 -q

test-fast: $(STAMP)
	$(BIN)/pytest -n 2 -q -m "not slow and not chaos"

lint: $(STAMP)
	$(BIN)/ruff check harness tests

# Every table and figure of the report from scratch (about 25 min on 2 cores): validate
# the workloads; Table 2 (W500 x 5 repeats x the 2^3 factorial, ~7 min); Table 1 and
# Table 4 with the leave-one-layer-out cells (S12, ~5 min); the phased roll-out for the
# ROI (~3 min); Table 3 from 220 real SIGKILLs (~6 min); then paper/ beside the report.
reproduce: $(STAMP)
	$(BIN)/harness tasks validate --workload w500
	$(BIN)/harness tasks validate --workload s12
	$(BIN)/harness run experiment=table2 executor.workers=2
	$(BIN)/harness report
	$(BIN)/harness run experiment=table4 executor.workers=2
	$(BIN)/harness report
	$(BIN)/harness run experiment=phases executor.workers=2
	$(BIN)/harness chaos experiment=table3
	$(BIN)/harness paper

# JupyterLab on the notebooks, with the project's interpreter as the kernel.
lab: $(STAMP)
	$(BIN)/jupyter lab notebooks/

smoke: $(STAMP)
	$(BIN)/harness run experiment=smoke
	$(BIN)/harness report

# The CI regression benchmark: today's smoke run against the committed reference run.
# Exit 1 when agent runs got significantly less reliable (beyond a 2-point margin).
bench-ci: $(STAMP)
	rm -f results/ci/smoke.duckdb results/ci/smoke.duckdb.wal
	$(BIN)/harness run experiment=smoke store.path=results/ci/smoke.duckdb run.id=ci
	$(BIN)/harness compare results/reference/smoke.duckdb results/ci/smoke.duckdb --margin 0.02

# Refresh the committed reference (after an intended change of behaviour or workload;
# say why in the commit message): `make reference && git add results/reference`.
reference: $(STAMP)
	rm -f results/reference/smoke.duckdb results/reference/smoke.duckdb.wal
	$(BIN)/harness run experiment=smoke store.path=results/reference/smoke.duckdb run.id=reference

clean-results:
	rm -f results/*.duckdb results/*.duckdb.wal

# exokg — build, validate and serve the glioma exosome knowledge graph.
# Constants first; every target that needs Python goes through the project's own virtualenv.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
NPM_STAMP := node_modules/.package-lock.json
BUILD  := build
HOST   ?= 127.0.0.1
PORT   ?= 8000
BENCH_SCALES ?= 20
BENCH_OPTS   ?= --seconds 3 --repetitions 2

.DEFAULT_GOAL := help
.PHONY: help install graph run serve test clean java reason bench-reason validate bench bench-scaling

# HermiT (the OWL reasoner the build runs through owlready2) and the OWL/XML export need a Java runtime.
JAVA_HINT := HermiT needs a Java runtime (java on PATH). Debian/Ubuntu: sudo apt-get install default-jre-headless

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

# setuptools says "Editable installation... be careful with folders named like your package" on every editable
# install of a layout like ours (exokg.<step> mapped onto top-level folders): information, not a warning, so it
# is not shown; any other warning is (tests/test_packaging.py checks that there is none).
EDITABLE_NOTE := PYTHONWARNINGS="ignore:Editable installation"

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(EDITABLE_NOTE) $(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

# The query page's YASGUI (npm @zazuko/yasgui, pinned in package-lock.json), served by the server itself.
# Without npm the page is a plain form, so a missing npm is reported, not an error.
$(NPM_STAMP): package.json package-lock.json
	@if command -v npm >/dev/null 2>&1; then npm ci --no-audit --no-fund --loglevel=error; \
	else echo "npm not found: the query page will be a plain form (Debian: sudo apt-get install npm)" >&2; fi

install: $(STAMP) $(NPM_STAMP) ## create .venv/ and install exokg with its test tools (.venv/bin/exokg), and YASGUI with npm

java: ## check that a Java runtime is there for HermiT
	@command -v java >/dev/null 2>&1 || { echo "$(JAVA_HINT)" >&2; exit 1; }

reason: $(STAMP) java ## check consistency, classify, count the entailments (writes nothing)
	$(BIN)/exokg reason

bench-reason: $(STAMP) java ## time each reasoning engine on the review graph and the synthetic 10x/100x graphs
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	$(BIN)/python bench/reason_bench.py

bench-scaling: $(STAMP) ## time and peak memory of every step at 10^4-10^6 triples; plots in docs/scaling*.png
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	$(BIN)/python bench/scaling.py $(SCALING_OPTS)

bench: $(STAMP) java ## our endpoint against the Oxigraph server, Virtuoso and rdflib-endpoint (review + 20x synthetic)
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	@command -v virtuoso-t >/dev/null 2>&1 || echo "Virtuoso not installed (skipped): sudo apt-get install virtuoso-opensource" >&2
	$(BIN)/python bench/run_peers.py --data $(BUILD) --scales $(BENCH_SCALES) $(BENCH_OPTS) --out $(BUILD)/bench

graph: $(STAMP) java ## build the graph into build/ (atomically replaced)
	$(BIN)/exokg build --out $(BUILD)

validate: graph ## check build/ against the SHACL shapes and list the curation gaps (warnings)
	$(BIN)/exokg validate --data $(BUILD)

run: graph $(NPM_STAMP) ## build and serve the SPARQL endpoint with gunicorn (4 workers) on http://$(HOST):$(PORT)/sparql
	EXOKG_DATA=$(BUILD) $(BIN)/gunicorn --config python:exokg.server.gunicorn_conf --bind $(HOST):$(PORT) --workers 4

test: $(STAMP) $(NPM_STAMP) java ## install and run the test suite
	$(BIN)/python -m pytest -q

clean: ## remove build outputs and the virtualenv
	rm -rf $(BUILD) $(VENV) .pytest_cache node_modules

# exokg — build, validate and serve the glioma exosome knowledge graph.
# Constants first; every target that needs Python goes through the project's own virtualenv.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
BUILD  := build
HOST   ?= 127.0.0.1
PORT   ?= 8000

.DEFAULT_GOAL := help
.PHONY: help install graph run serve test clean java reason bench-reason validate

# HermiT (the OWL reasoner the build runs through owlready2) and the OWL/XML export need a Java runtime.
JAVA_HINT := HermiT needs a Java runtime (java on PATH). Debian/Ubuntu: sudo apt-get install default-jre-headless

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP) ## create .venv/ and install exokg with its test tools (.venv/bin/exokg)

java: ## check that a Java runtime is there for HermiT
	@command -v java >/dev/null 2>&1 || { echo "$(JAVA_HINT)" >&2; exit 1; }

reason: $(STAMP) java ## check consistency, classify, count the entailments (writes nothing)
	$(BIN)/exokg reason

bench-reason: $(STAMP) java ## time each reasoning engine on the review graph and the synthetic 10x/100x graphs
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	$(BIN)/python bench/reason_bench.py

graph: $(STAMP) java ## build the graph into build/ (atomically replaced)
	$(BIN)/exokg build --out $(BUILD)

validate: graph ## check build/ against the SHACL shapes and list the curation gaps (warnings)
	$(BIN)/exokg validate --data $(BUILD)

run: graph ## build and serve the SPARQL endpoint with gunicorn (4 workers) on http://$(HOST):$(PORT)/sparql
	EXOKG_DATA=$(BUILD) $(BIN)/gunicorn --config python:exokg.server.gunicorn_conf --bind $(HOST):$(PORT) --workers 4

test: $(STAMP) java ## install and run the test suite
	$(BIN)/python -m pytest -q

clean: ## remove build outputs and the virtualenv
	rm -rf $(BUILD) $(VENV) .pytest_cache

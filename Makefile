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
.PHONY: help install graph run serve test clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP) ## create .venv/ and install exokg with its test tools (.venv/bin/exokg)

graph: $(STAMP) ## build the graph into build/ (atomically replaced)
	$(BIN)/exokg build --out $(BUILD)

run: graph ## install, build and serve the SPARQL endpoint on http://$(HOST):$(PORT)/sparql
	$(BIN)/exokg serve --host $(HOST) --port $(PORT) --data $(BUILD)

test: $(STAMP) ## install and run the test suite
	$(BIN)/python -m pytest -q

clean: ## remove build outputs and the virtualenv
	rm -rf $(BUILD) $(VENV) .pytest_cache

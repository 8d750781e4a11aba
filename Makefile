# Sunshine — the two commands for a fresh machine are `make html` and `make test`.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
OUTPUT ?= output
PORT ?= 8000

.PHONY: html test test-slow serve publish clean venv bench

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

html: $(STAMP)
	$(BIN)/sunshine build --data data --output $(OUTPUT)

test: $(STAMP)
	$(BIN)/python -m pytest -q -m "not slow"

test-slow: $(STAMP)
	$(BIN)/python -m pytest -q -m slow

serve: html
	$(BIN)/python -m http.server --directory $(OUTPUT) $(PORT)

clean:
	rm -rf $(OUTPUT) .pytest_cache

# Sunshine — the two commands for a fresh machine are `make html` and `make test`.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DATA ?= data
OUTPUT ?= output
PORT ?= 8000

.PHONY: html test test-py test-js test-slow serve publish clean venv bench

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

html: $(STAMP)
	$(BIN)/sunshine build --data $(DATA) --output $(OUTPUT)

# The whole default suite: the Python tests, then the JavaScript verifier's tests under node's own
# runner (they share tests/vectors/ with the Python side).
test: test-py test-js

test-py: $(STAMP)
	$(BIN)/python -m pytest -q -m "not slow"

test-js: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" node --test tests/js/

test-slow: $(STAMP)
	$(BIN)/python -m pytest -q -m slow

serve: html
	$(BIN)/python -m http.server --directory $(OUTPUT) $(PORT)

# The published site: publishconf.py adds the public address (SUNSHINE_PUBLIC_URL) for the sitemap and feeds.
publish: $(STAMP)
	$(BIN)/sunshine build --data $(DATA) --output $(OUTPUT) --settings publishconf.py

# Benchmarks print their figures; see bench/README.md for what each measures and its target.
bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	$(BIN)/python bench/bench_foundation.py
	$(BIN)/python bench/bench_ledger_core.py
	$(BIN)/python bench/bench_verify.py
	$(BIN)/python bench/bench_draw.py
	node bench/bench_js_verify.mjs
	$(BIN)/python bench/bench_js_verify_browser.py
	$(BIN)/python bench/bench_portal.py
	$(BIN)/python bench/bench_render.py --data bench/out/data
	$(BIN)/python bench/bench_load.py bench/out/data --work bench/out/bench_load
	$(BIN)/python bench/bench_rules.py bench/out/data --cache bench/out/bench_rules
	$(BIN)/python bench/bench_downloads.py --data bench/out/data --work bench/out/bench_downloads
	$(BIN)/python bench/bench_downloads_delta.py --data bench/out/data --work bench/out/bench_downloads_delta
	$(BIN)/python bench/bench_page_render.py --data bench/out/data --work bench/out/bench_page_render

clean:
	rm -rf $(OUTPUT) $(OUTPUT).cache .pytest_cache

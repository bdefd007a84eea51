# The two commands a new user runs: `make demo` (main job) and `make test` (the suite).
# Both create .venv and install everything they need on a fresh machine.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: demo test test-slow bench lint clean venv

venv: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "DNT-RIC needs Python 3.11 (found %s)" % sys.version.split()[0]'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	# torch first, by exact version: the CPU wheel (a bare `torch` would pull a multi-GB CUDA build)
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e '.[dev]'
	$(PY) -m pip check
	# protoc (Debian protobuf-compiler 3.21) checks that the committed protobuf code regenerates identically
	@command -v protoc >/dev/null 2>&1 || { command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ] && \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq protobuf-compiler >/dev/null); } || \
	  echo "warning: protoc not found and not installable here; the protobuf regeneration test will skip"
	@touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/dnt demo $(ARGS)

test: $(STAMP)
	$(PY) -m pytest -q $(ARGS)

test-slow: $(STAMP)
	$(PY) -m pytest -q -m slow $(ARGS)

bench: $(STAMP)
	$(PY) bench/loader.py
	$(PY) bench/forecast.py
	$(PY) bench/e2.py
	$(PY) bench/latency.py
	$(PY) bench/twin.py
	$(PY) bench/poisoning.py
	$(PY) bench/rrm.py
	$(PY) bench/caching.py

lint: $(STAMP)
	$(VENV)/bin/ruff check dnt tests bench

clean:
	rm -rf $(VENV) runs .pytest_cache

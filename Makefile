# The README's commands. Each first installs what it needs into a local virtual environment, .venv (once;
# again when the pins change); `make` alone (or `make help`) prints this list:
#   make book      renders the book from the chapters' committed outputs into _build/html
#   make execute   re-executes every chapter with papermill at the paper's fidelity, training only the results-store
#                  entries that are missing or stale (RETRAIN=1: every entry); then commit book/
#   make test      every check, as CI runs it (.ci/run): ruff, unit tests, the JavaScript trainer's tests (node),
#                  papermill (fast), nbval against the results store, a re-training of one block of every store
#                  entry, the same for two chapters and a few entries under another CPU's rounding (portability),
#                  the book build with warnings as errors, and a headless-Chromium check of every chapter
#   make verify    re-trains every store entry in full and compares it with the store: bit for bit on the machine
#                  that wrote it, to the measured tolerance elsewhere (not in CI)
#   make lint      ruff check and format check (part of make test)
#   make clean     removes _build
SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
MATHJAX_VERSION := 3.2.2
MATHJAX := $(VENV)/npm/node_modules/mathjax/es5/tex-chtml.js
TIMED := tools/timed
export TOYMODELS_PROGRESS := 0

.DEFAULT_GOAL := help
.PHONY: help book execute verify test lint unit js papermill-fast nbval reproduce portability browser chromium clean

help:  # the commands, from the comment at the top of this file
	@sed -n 's/^#   //p' $(firstword $(MAKEFILE_LIST))

$(VENV)/installed: requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

# MathJax for offline equations, served from the built site (book/_ext/toymodels_book.py copies it there).
$(MATHJAX): $(VENV)/installed
	npm install --prefix $(VENV)/npm --no-audit --no-fund --no-save --loglevel=error mathjax@$(MATHJAX_VERSION)
	touch $@

# Debian's chromium, for the browser check (apt needs root: sudo is used when not root).
chromium:
	@command -v chromium >/dev/null || { \
	  sudo=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$sudo apt-get install -y -qq chromium || { $$sudo apt-get update -qq && $$sudo apt-get install -y -qq chromium; }; }

book: $(VENV)/installed $(MATHJAX)
	$(TIMED) "book build" $(BIN)/jupyter-book build . -W -n --keep-going
	test -f _build/html/index.html
	@echo "The book is at file://$(CURDIR)/_build/html/index.html"

execute: $(VENV)/installed
	$(TIMED) "papermill (paper fidelity)" $(BIN)/python tools/execute_chapters.py $(if $(RETRAIN),--retrain)

verify: $(VENV)/installed
	$(TIMED) "verify (every store entry re-trained)" $(BIN)/python tools/verify_store.py

test: lint unit js papermill-fast nbval reproduce portability book browser

# ruff: lint and format check, line length 120 for the package, tests, tools and benchmarks (pyproject.toml).
lint: $(VENV)/installed
	$(TIMED) "lint (ruff)" bash -c "$(BIN)/ruff check . && $(BIN)/ruff format --check ."

unit: $(VENV)/installed
	$(TIMED) "unit tests" $(BIN)/python -m pytest -m "not browser"

# The live fits' JavaScript (toymodels/kit/static/toymodels-live.js) against PyTorch, on the fixture that
# tools/export_live_fixture.py writes (the unit tests check that it is current), and what it learns.
js:
	$(TIMED) "JavaScript tests (node)" node --test tests/js/*.test.js

papermill-fast: $(VENV)/installed
	$(TIMED) "papermill (fast)" $(BIN)/python tools/execute_chapters.py --fast --out _build/fast

# nbval re-executes the committed chapters (paper fidelity) against the results store, which must hold every
# entry they use (TOYMODELS_STORE=use: a missing or stale entry fails at once, naming `make execute`), and
# compares every output with the committed one. The cell limit only catches a hung kernel.
nbval: $(VENV)/installed
	$(TIMED) "nbval" env TOYMODELS_STORE=use $(BIN)/python -m pytest --nbval --nbval-current-env \
	  --nbval-cell-timeout=3600 -p no:cacheprovider $$($(BIN)/python tools/execute_chapters.py --list)

# Reproducibility: one block of every store entry re-trained from scratch, compared bit for bit on the machine that
# wrote the entry and to the measured tolerance elsewhere (each line says which).
reproduce: $(VENV)/installed
	$(TIMED) "reproduce (one block of every store entry)" $(BIN)/python tools/verify_store.py --sample

# Another CPU's rounding, on this one: ATEN_CPU_CAPABILITY=default makes torch compute with its plain kernels, which
# round float32 sums in another order, as an Intel or AMD machine of another model does. Four chapters' outputs must
# stay exactly as committed (their analysis computes in float64), and a few store entries, chosen among those whose
# training is least stable, must hold to the cross-machine tolerance: an output or a check that depends on the CPU's
# last bits fails here, on the machine of whoever introduced it, not only on the next one of another vendor.
PORTABLE_CHAPTERS := book/05_learning_dynamics.ipynb book/09_ways_out.ipynb book/11_memorization.ipynb \
	book/12_why_this_model.ipynb
PORTABLE_ENTRIES := 2-anticorrelated phase-change-n-3-m-2- relu-output-n-20-m-5-l1-0-1- learning-dynamics-n-400 \
	saes-on-hierarchical-features-values-1- absolute-value-n-100-m-40-lr- memorization-n-1000-m-2-t-350- \
	n-20-m-5-free-decoder-from-w-160-000-steps-
portability: $(VENV)/installed
	$(TIMED) "portability (ATEN_CPU_CAPABILITY=default: nbval of 4 chapters, 9 store entries to tolerance)" \
	  env ATEN_CPU_CAPABILITY=default bash -c "TOYMODELS_STORE=use $(BIN)/python -m pytest --nbval \
	  --nbval-current-env --nbval-cell-timeout=3600 -p no:cacheprovider -q $(PORTABLE_CHAPTERS) && \
	  $(BIN)/python tools/verify_store.py --sample --only $(PORTABLE_ENTRIES)"

browser: $(VENV)/installed chromium book
	$(TIMED) "browser check" $(BIN)/python -m pytest -m browser tests/test_browser.py

clean:
	rm -rf _build

# The two commands of the README: `make book` builds the book, `make test` runs the tests.
# Each first installs everything into a local virtual environment, .venv (once; again when the pins change).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: book test clean

$(VENV)/installed: requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

test: $(VENV)/installed
	TOYMODELS_PROGRESS=0 $(BIN)/python -m pytest

book: $(VENV)/installed
	$(BIN)/jupyter-book build . -W -n --keep-going
	@echo "The book is at file://$(CURDIR)/_build/html/index.html"

clean:
	rm -rf _build

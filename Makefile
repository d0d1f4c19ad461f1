# siamlab: `make book` builds the executed HTML book, `make test` runs every test.
# Both create the virtual environment .venv with the pinned packages when it is missing.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CHAPTERS := $(sort $(wildcard book/[0-9][0-9]_*.md))
NOTEBOOKS := _build/notebooks
PYTEST_ARGS ?=

.PHONY: help install test lint unit chapters book browser check-book lab package clean
.DEFAULT_GOAL := help

help:
	@echo "make test   - ruff, unit tests, then every chapter validated with nbval"
	@echo "make book   - build the HTML book into _build/html (chapters run by make test reused)"
	@echo "make lab    - open the chapters in JupyterLab"
	@echo "make package - build the sdist and wheel, install them elsewhere and smoke-test"
	@echo "make clean  - remove build outputs (keeps .venv)"

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[book,test]"
	touch $(STAMP)

install: $(STAMP)

# ruff at 88 columns: nothing in the library or its tests scrolls sideways in the book.
LINTED := siamlab tests benchmarks _ext
lint: $(STAMP)
	$(BIN)/ruff check $(LINTED)
	$(BIN)/ruff format --check $(LINTED)

unit: $(STAMP)
	$(BIN)/python -m pytest tests $(PYTEST_ARGS)

# Chapters live as MyST Markdown; nbval needs .ipynb, so jupytext converts them into a build folder.
# The chapters nbval executed are kept, outputs included, in _build/executed (_ext/record_executed.py).
chapters: $(STAMP)
	rm -rf $(NOTEBOOKS) && mkdir -p $(NOTEBOOKS)
	for chapter in $(CHAPTERS); do \
	  $(BIN)/jupytext --quiet --to ipynb --output $(NOTEBOOKS)/$$(basename $$chapter .md).ipynb $$chapter || exit 1; \
	done
	if [ -z "$(CHAPTERS)" ]; then echo "no chapters to validate"; else \
	  cd $(NOTEBOOKS) && TQDM_DISABLE=1 PYTHONPATH=../../_ext ../../$(BIN)/python -m pytest \
	    --nbval-lax -p no:cacheprovider -p record_executed --rootdir=. -o addopts="" \
	    --timeout=900 --durations=0 *.ipynb; fi

test: lint unit chapters

# The book shows the chapters executed by `make test` when they ran on exactly these sources and
# packages, and executes the others itself (_ext/book_cache.py).
book: $(STAMP)
	$(BIN)/python _ext/book_cache.py
	TQDM_DISABLE=1 $(BIN)/jupyter-book build . --warningiserror --keep-going
	@test -f _build/html/index.html && echo "Book written to _build/html/index.html"
	$(MAKE) check-book

# The browser check needs Debian's chromium (CI runs as root); Playwright drives it.
browser:
	test -x /usr/bin/chromium || (apt-get update && apt-get install -y chromium)

# Every page of _build/html in headless Chromium: no outside request, no broken image, no
# error output, math typeset, every explorer's sliders move its figure. Screenshots and
# report.json in _build/screenshots.
check-book: $(STAMP) browser
	$(BIN)/python tests/browser/check_book.py _build/html --screenshots _build/screenshots

# The sdist and the wheel, installed into a new environment outside the checkout and run from there.
package: $(STAMP)
	rm -rf _build/dist
	$(BIN)/python -m pip install --quiet -c constraints.txt build
	$(BIN)/python -m build --outdir _build/dist .
	bash tests/package/smoke.sh _build/dist $(PYTHON) constraints.txt

lab: $(STAMP)
	$(BIN)/jupyter lab book/

clean:
	rm -rf _build .pytest_cache .jupyter_cache

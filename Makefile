# Two commands from a fresh clone (Python 3.11+ and make are the only prerequisites):
#   make preview   set up .venv and preview the dev stack offline
#   make test      set up .venv and run lint and the whole test suite
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STACK ?= dev
FORMAT ?= text

.PHONY: setup preview test lint lint-workflows bench clean

$(VENV)/.installed: requirements.txt requirements-dev.txt policies/requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

setup: $(VENV)/.installed

preview: setup
	$(PY) -m mlopsctl preview --stack $(STACK) --format $(FORMAT)

lint: setup
	$(VENV)/bin/ruff check .

# GitHub Actions workflows and the repository's own composite actions: schema-valid, and no zizmor
# finding above low (offline: no API calls).
lint-workflows: setup
	$(VENV)/bin/check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml
	$(VENV)/bin/check-jsonschema --builtin-schema vendor.github-actions .github/actions/*/action.yml
	$(VENV)/bin/zizmor --offline --min-severity medium .github/workflows .github/actions

test: setup lint lint-workflows
	$(PY) -m pytest -n 2

bench: setup
	$(PY) bench/preview.py

clean:
	rm -rf $(VENV)

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test format bench clean venv

venv: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -c constraints.txt -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/torchcanvas

test: $(STAMP)
	$(VENV)/bin/ruff check app graph codegen tests bench assets
	$(VENV)/bin/ruff format --check app graph codegen tests bench assets
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q

format: $(STAMP)
	$(VENV)/bin/ruff format app graph codegen tests bench assets
	$(VENV)/bin/ruff check --fix app graph codegen tests bench assets

bench: $(STAMP)
	$(PY) bench/run_all.py $(BENCH)

clean:
	rm -rf $(VENV) build *.egg-info

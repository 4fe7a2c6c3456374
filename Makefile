PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# One torch thread in tests: on a busy 2-core machine two OpenMP threads spin against the
# other processes (11 two-epoch runs took 87 s with them, 16 s without); on a quiet one the
# small test models lose nothing.
TEST_ENV := OMP_NUM_THREADS=1 QT_QPA_PLATFORM=offscreen
# Two pytest workers, one per core, each taking whole files (tests of a file share fixtures
# and helpers' state): 1,350 tests in 8 min 37 s instead of 14 min 52 s on this machine.
PARALLEL := -n 2 --dist loadfile

.PHONY: run test test-xcb test-fast format bench clean venv

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
	$(TEST_ENV) $(PY) -m pytest -q $(PARALLEL) --durations=15
	$(MAKE) test-xcb

# The real-X lane, in its own process: tests/xcb on the xcb platform under Xvfb (its
# conftest starts one on a free display), real key events through Qt's shortcut map.
test-xcb: $(STAMP)
	OMP_NUM_THREADS=1 TORCHCANVAS_LANE=xcb $(PY) -m pytest -q -p no:cacheprovider tests/xcb

# The quick loop: no test marked slow, and of the GUI tests only the smoke ones.
test-fast: $(STAMP)
	$(VENV)/bin/ruff check app graph codegen tests bench assets
	$(TEST_ENV) $(PY) -m pytest -q $(PARALLEL) -m "not slow and (not gui or smoke)"

format: $(STAMP)
	$(VENV)/bin/ruff format app graph codegen tests bench assets
	$(VENV)/bin/ruff check --fix app graph codegen tests bench assets

bench: $(STAMP)
	$(PY) bench/run_all.py $(BENCH)

clean:
	rm -rf $(VENV) build *.egg-info

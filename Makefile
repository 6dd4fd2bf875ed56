# Two commands do everything on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check -q

.PHONY: demo test lint bench fuzz soak clean

$(VENV)/.created:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip
	touch $@

$(VENV)/.installed: $(VENV)/.created pyproject.toml
	$(PIP) install -e '.[datasets,viz]'
	touch $@

$(VENV)/.test-deps: $(VENV)/.installed pyproject.toml
	$(PIP) install -e '.[test,onnx,tensorboard,notebook,distributed,bench,datasets]'
	$(PIP) install torch==2.13.0
	touch $@

demo: $(VENV)/.installed
	$(VENV)/bin/descent demo

test: $(VENV)/.test-deps
	$(VENV)/bin/ruff check descent tests tools
	$(PY) -m pytest -n 2 -q

# OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE slow NumPy on some machines: unset for this command only
bench: $(VENV)/.test-deps
	env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE $(VENV)/bin/descent bench

# Mutants of valid checkpoint, CSV, IDX and NPZ files, each read in a bounded child process;
# the short version runs inside `make test` (tests/test_fuzz.py). FUZZ_INPUTS=1000000 for more.
FUZZ_INPUTS ?= 100000
fuzz: $(VENV)/.test-deps
	$(PY) -m tools.fuzz --inputs $(FUZZ_INPUTS) --jobs 2

# 20 training runs killed with SIGKILL (half during a checkpoint write) and resumed; not part of test
SOAK_KILLS ?= 20
soak: $(VENV)/.test-deps
	$(PY) -m tools.soak --kills $(SOAK_KILLS)

lint: $(VENV)/.test-deps
	$(VENV)/bin/ruff check descent tests tools
	$(VENV)/bin/ruff format --check descent tests tools

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .hypothesis

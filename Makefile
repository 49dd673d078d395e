# Every target creates .venv if it is missing; stamps re-install when pyproject.toml changes.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip

.PHONY: demo test bench lint clean

$(PY):
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(PY)
	$(PIP) install -q -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(PY)
	$(PIP) install -q -e ".[test,plot]"
	touch $@ $(VENV)/.installed

demo: $(VENV)/.installed
	$(PY) -m ffnn train --out $(VENV)/demo-model.safetensors

test: $(VENV)/.installed-test
	$(PY) -m pytest -n 2 -q

bench: $(VENV)/.installed-test
	$(PY) bench/engine_overhead.py
	$(PY) bench/peers.py
	$(PY) bench/second_order.py

lint: $(VENV)/.installed-test
	$(PY) -m ruff check src tests bench
	$(PY) -m mypy

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis

# Every target creates .venv if it is missing; stamps re-install when pyproject.toml changes.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip

.PHONY: demo test examples bench lint clean

$(PY):
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(PY)
	$(PIP) install -q -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(PY)
	$(PIP) install -q -e ".[test,plot]"
	touch $@ $(VENV)/.installed $(VENV)/.installed-plot

$(VENV)/.installed-plot: pyproject.toml | $(PY)
	$(PIP) install -q -e ".[plot]"
	touch $@ $(VENV)/.installed

# Every script of examples/ in its quick mode; figures go to build/examples (the ones in
# docs/images come from the full runs: python examples/<name>.py).
EXAMPLES := $(filter-out examples/_common.py,$(wildcard examples/*.py))

demo: $(VENV)/.installed
	$(PY) -m ffnn train --out $(VENV)/demo-model.safetensors

test: $(VENV)/.installed-test
	$(PY) -m pytest -n 2 -q

examples: $(VENV)/.installed-plot
	@for script in $(EXAMPLES); do \
		echo "== $$script --quick"; \
		$(PY) $$script --quick --out build/examples || exit 1; \
	done

bench: $(VENV)/.installed-test
	$(PY) bench/engine_overhead.py
	$(PY) bench/peers.py
	$(PY) bench/second_order.py

lint: $(VENV)/.installed-test
	$(PY) -m ruff check src tests bench examples
	$(PY) -m mypy

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis build/examples

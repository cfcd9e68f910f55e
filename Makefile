# Two commands on a fresh machine: `make lab` (the notebooks) and `make test` (the suite).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
ROOTFLAG := $(if $(filter 0,$(shell id -u)),--allow-root,)

.PHONY: install browser lab app test lint docs bench clean

# the compiled order book is built by pip from its Cython source: rebuild when it changes
$(STAMP): pyproject.toml setup.py tradesim_nb/_book_c.pyx
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[live,nb,dask,test,docs]"
	touch $(STAMP)

install: $(STAMP)

lab: $(STAMP)
	$(BIN)/jupyter lab --ServerApp.root_dir=notebooks $(ROOTFLAG) notebooks/01_trade_cost_simulator.ipynb

app: $(STAMP)
	$(BIN)/voila notebooks/01_trade_cost_simulator.ipynb --no-browser --port=8866 --Voila.ip=127.0.0.1

lint: $(STAMP)
	$(BIN)/ruff check tradesim_nb tests benchmarks
	$(BIN)/mypy

# the browser tests need a Chromium: Debian's (installed with apt-get when missing and possible),
# else Playwright's own; the script says which one it found or installed
browser: $(STAMP)
	@scripts/ensure_browser.sh $(BIN)

test: lint browser
	$(BIN)/pytest

# the documentation site, offline: API reference from the docstrings, the user guide, and the
# notebooks executed (the dashboard on the local venue); any Sphinx warning fails the build
docs: $(STAMP)
	rm -rf docs/api/generated docs/_build/html
	$(BIN)/sphinx-build -W --keep-going -q -b html docs docs/_build/html
	@echo "docs: open docs/_build/html/index.html"

bench: $(STAMP)
	$(BIN)/tradesim bench all

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build *.egg-info docs/_build docs/api/generated docs/notebooks

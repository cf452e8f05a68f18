# Inside CNNs. The two commands a learner needs:
#   make lab    install the learner set (first time only) and open JupyterLab on notebooks/
#   make test   install (first time only), run the unit tests, then re-execute
#               every notebook with nbval and compare its outputs
# Everything is installed into .venv; nothing outside this folder is touched.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
LAB_STAMP := $(VENV)/.installed-lab
NOTEBOOKS := $(sort $(wildcard notebooks/*.ipynb))
REPO   ?=
CHROMIUM ?= $(shell command -v chromium 2>/dev/null || command -v chromium-browser 2>/dev/null)
export CHROMIUM

.PHONY: help install lab test test-notebooks-training test-notebooks-inside test-unit test-browser test-robust test-oldest test-colab-like execute bench html links lock clean distclean

help:
	@echo "make lab        install if needed, then open JupyterLab on notebooks/"
	@echo "make test       install if needed, then unit tests + nbval over every notebook (+ the browser test"
	@echo "                when Chromium is installed)"
	@echo "make test-unit  the unit tests in tests/ only"
	@echo "make test-browser  notebooks 02 and 07 in JupyterLab in headless Chromium"
	@echo "make test-robust  notebooks 04-07 under other seeds and on real-like data (--nbval-lax)"
	@echo "make test-oldest  the unit tests with the oldest versions requirements.txt allows (its floors)"
	@echo "make test-colab-like  unit tests, notebooks 02 and 07 with Colab's versions (Python 3.13, TF 2.20)"
	@echo "make execute    re-run every notebook from a fresh kernel and store its outputs"
	@echo "make bench      run the benchmarks in bench/ and print their tables (time and memory budgets too)"
	@echo "make html       export the executed notebooks to build/html/ with an index page"
	@echo "make links REPO=owner/name   rewrite every Colab/Binder link for a new GitHub home"
	@echo "make lock       re-pin constraints.txt from the current .venv"
	@echo "make clean      remove caches and build/ (keeps .venv and downloaded data)"
	@echo "make distclean  clean, and remove .venv too"

install: $(STAMP)

# The learner set: the package, its dependencies and JupyterLab (requirements.txt, requirements-lab.txt).
# Re-runs only when a dependency list changes (or .venv is missing).
$(LAB_STAMP): requirements.txt requirements-lab.txt constraints.txt pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else "Inside CNNs needs Python 3.10 or newer; this python3 is " + sys.version.split()[0])'
	@$(BIN)/python -m pip --version >/dev/null 2>&1 || { rm -rf $(VENV) && $(PYTHON) -m venv $(VENV); } || { \
	  rm -rf $(VENV); echo "Could not create $(VENV). On Debian/Ubuntu: sudo apt install python3-venv"; exit 1; }
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -r requirements.txt -r requirements-lab.txt -e .
	@touch $@
	@echo "Installed the learner set into $(VENV)."

# The learner set plus the test and maintenance tools (requirements-test.txt).
$(STAMP): $(LAB_STAMP) requirements-test.txt
	$(BIN)/python -m pip install --quiet -c constraints.txt -r requirements-test.txt
	@touch $@
	@echo "Installed the test tools into $(VENV)."

# Jupyter refuses to start as root unless told to (containers, some cloud machines).
lab: $(LAB_STAMP)
	$(BIN)/jupyter lab --ServerApp.root_dir=notebooks $(if $(filter 0,$(shell id -u 2>/dev/null)),--allow-root)

# CI and the stored outputs use the offline stand-in data unless told otherwise.
test test-unit test-browser test-notebooks-training test-notebooks-inside execute bench: export COURSE_DATA ?= standin

# Two phases, two jobs each, so that both cores stay busy:
#   1. notebooks 01-04 (notebook 4 trains the model the others load) beside the unit tests;
#   2. notebooks 05-07 beside the browser test (which also loads that model).
# Each job's output appears when it ends.
NOTEBOOKS_TRAINING := $(filter notebooks/01_% notebooks/02_% notebooks/03_% notebooks/04_%,$(NOTEBOOKS))
NOTEBOOKS_INSIDE := $(filter-out $(NOTEBOOKS_TRAINING),$(NOTEBOOKS))

# Notebooks 04-07 print numbers that come from the trained model, and training's float32 sums
# differ in their last bits between CPUs (AVX2 or AVX-512, oneDNN on or off). tools/float_fingerprint.py
# tells in a few seconds whether this machine trains bit for bit like the one that made the stored
# outputs. If it does, they are compared output by output; if not, with --nbval-lax (every cell runs
# and every assert holds, printed numbers are not compared), and the test says so.
NOTEBOOKS_TRAINED := $(filter notebooks/04_% notebooks/05_% notebooks/06_% notebooks/07_%,$(NOTEBOOKS))
TRAINED_COMPARE ?= $(shell $(BIN)/python tools/float_fingerprint.py --check >&2 && echo full || echo lax)
trained_opts = $(if $(filter lax,$(TRAINED_COMPARE)),--nbval-lax)

test: $(STAMP)
	@if [ -z "$(CHROMIUM)" ] && [ -n "$$CI" ]; then \
	  echo "CI needs the browser test, but Chromium is not installed (.ci/run installs it with apt)."; exit 1; fi
	@compare=$$($(BIN)/python tools/float_fingerprint.py --check >&2 && echo full || echo lax); \
	echo "Notebooks 01-04 and the unit tests, side by side:"; \
	$(MAKE) --no-print-directory -j2 --output-sync=target TRAINED_COMPARE=$$compare test-notebooks-training test-unit || exit 1; \
	if [ -n "$(CHROMIUM)" ]; then \
	  echo "Notebooks 05-07 and the browser test, side by side:"; \
	  $(MAKE) --no-print-directory -j2 --output-sync=target TRAINED_COMPARE=$$compare test-notebooks-inside test-browser; \
	else $(MAKE) --no-print-directory TRAINED_COMPARE=$$compare test-notebooks-inside && \
	  echo "Browser test not run: Chromium is not installed (Debian/Ubuntu: sudo apt install chromium; then make test-browser)."; fi

test-notebooks-training: $(STAMP)
	$(BIN)/python -m pytest $(filter-out $(NOTEBOOKS_TRAINED),$(NOTEBOOKS_TRAINING))
	$(BIN)/python -m pytest $(trained_opts) $(filter $(NOTEBOOKS_TRAINED),$(NOTEBOOKS_TRAINING))

test-notebooks-inside: $(STAMP)
	$(BIN)/python -m pytest $(trained_opts) $(NOTEBOOKS_INSIDE)

test-unit: $(STAMP)
	$(BIN)/python -m pytest tests

# The notebooks in JupyterLab in headless Chromium (Debian's package, driven by Playwright).
test-browser: $(STAMP)
	$(BIN)/python -m pytest tests/browser -o addopts="-p no:cacheprovider"

# Notebooks 04-07 as other learners would run them: other COURSE_SEEDs, and real-like data
# without masks (tools/make_reallike.py), each in a clean data folder under build/robust/.
test-robust: $(STAMP)
	$(BIN)/python tools/test_robust.py

execute: $(STAMP)
	$(BIN)/python tools/execute_notebooks.py $(NOTEBOOKS)

bench: $(STAMP)
	@for script in bench/*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done
	@echo "== bench/notebooks.py --imagenet 05 06 07 (the online path: the optional ImageNet sections run)"
	@$(BIN)/python bench/notebooks.py --imagenet 05 06 07

# The declared floors, installed exactly, in .venv-oldest; see tools/oldest.sh.
test-oldest:
	tools/oldest.sh

# A second environment with Colab's versions; see tools/colab_like.sh and the README.
test-colab-like:
	tools/colab_like.sh

html: $(STAMP)
	$(BIN)/python tools/export_html.py

links: $(STAMP)
	$(BIN)/python tools/sync_links.py $(REPO)

lock: $(STAMP)
	@{ echo "# Exact versions behind the stored notebook outputs and CI (made by make lock)."; \
	   echo "# Applied with pip -c. Python 3.10 gets unpinned versions: several of these need 3.11."; \
	   $(BIN)/python -m pip freeze --exclude-editable | grep -vE '^(pip|setuptools|wheel)==' \
	     | sed 's/$$/ ; python_version >= "3.11"/'; } > constraints.txt.tmp
	@mv constraints.txt.tmp constraints.txt
	@echo "constraints.txt re-pinned."

clean:
	rm -rf build .pytest_cache .hypothesis *.egg-info
	find . -path ./$(VENV) -prune -o \( -name __pycache__ -o -name .ipynb_checkpoints \) -type d -print0 | xargs -0 rm -rf

distclean: clean
	rm -rf $(VENV) .venv-colab .venv-oldest

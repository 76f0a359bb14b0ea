# The README's two commands: `make demo` and `make test`. Each does its own set-up,
# and once done, set-up reinstalls nothing (a few seconds).
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
VIZLAB := $(VENV)/bin/vizlab
STAMP  := $(VENV)/.vizlab-installed
# Optional second venv with a visdom 0.3 SERVER (needs Python >= 3.12) for tests/test_visdom03.py.
VENV03   ?= .venv-visdom03
STAMP03  := $(VENV03)/.vizlab-installed
PYTHON312 ?= $(firstword $(foreach p,python3.12 $(wildcard $(HOME)/.pyenv/versions/3.1[2-9]*/bin/python),\
              $(if $(shell $(p) -c 'import sys; assert sys.version_info >= (3, 12)' 2>/dev/null && echo ok),$(p))))
PYTEST_ARGS ?=
# The Pythons `make test` runs the suite on, each in .venv-pyX.Y (the default one in $(VENV));
# setup.cfg's python_requires and classifiers name the same. The default Python and WHOLE_ON run
# the whole suite, the others the logger, journal, lifecycle, server and integration tests
# (scripts/test_pythons.sh; WHOLE_ON= for none). `make test PYTHONS=3.11`: one only.
PYTHONS ?= 3.11 3.12 3.13
WHOLE_ON ?= 3.13

# Pinned, tested versions; also makes pip build visdom 0.2.4 with setuptools<81 (pip >= 25.3
# takes build pins from PIP_BUILD_CONSTRAINT only; older pips from PIP_CONSTRAINT).
export PIP_CONSTRAINT := $(CURDIR)/constraints.txt
export PIP_BUILD_CONSTRAINT := $(CURDIR)/constraints.txt
export PIP_DISABLE_PIP_VERSION_CHECK := 1

# MNIST: $VIZLAB_DATA when set, else the real files beside the checkout when they exist
# (offline machines); otherwise the runners download into ~/.vizlab/data.
ifeq ($(VIZLAB_DATA),)
ifneq ($(wildcard ../shared/data/MNIST/raw/t10k-labels-idx1-ubyte.gz),)
export VIZLAB_DATA := $(abspath ../shared/data)
endif
endif

.PHONY: setup setup-venv setup-visdom03 demo test test-fast lint-imports serve stop clean check-python

# A PYTHON given to make must run, be 3.11+, and match the venv's Python: one clear line otherwise.
check-python:
	@bash scripts/check_python.sh '$(PYTHON)' '$(VENV)' $(if $(filter file default,$(origin PYTHON)),0,1)

# Reinstalls only when the package metadata or the pins change.
$(STAMP): setup.py setup.cfg constraints.txt | check-python
	@echo "== set-up 1/3: a virtual environment in $(VENV) (seconds)"
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@echo "== set-up 2/3: vizlab and its pinned packages (first time: minutes and about 6.5 GB with CUDA torch; pip's progress follows)"
	$(PY) -m pip install -e '.[test]' || { echo "make: pip could not install the pinned packages" \
	  "(constraints.txt) for $$($(PY) -V); see pip's message above. torch and torchvision come from PyPI" \
	  "or a local index; offline, point PIP_FIND_LINKS at a folder of wheels for this Python" >&2; exit 1; }
	touch $@

# Visdom's UI files from npm (cached in ~/.cache/vizlab/npm), so its server never goes online;
# for $(VENV03) too: visdom 0.3 asks for other files (its own build.py's list).
setup: $(STAMP) setup-visdom03
	@echo "== set-up 3/3: Visdom's UI files from npm (seconds; cached in ~/.cache/vizlab/npm)"
	$(VIZLAB) assets install
	@if test -x $(VENV03)/bin/python; then $(VIZLAB) assets install --python $(VENV03)/bin/python; fi

# One venv and its UI files, no more (scripts/test_pythons.sh makes each .venv-pyX.Y with it).
setup-venv: $(STAMP)
	$(VIZLAB) assets install

# Only what visdom 0.3's server imports (--no-deps skips scipy, networkx, openTSNE: 120 MB, not 350).
# visdom itself without the pins: constraints.txt pins the 0.2.4 client of $(VENV).
# Optional: a failed build leaves no half venv behind, and `setup` goes on.
$(STAMP03): constraints.txt
	@echo "building $(VENV03): a visdom 0.3 server for tests/test_visdom03.py"
	@{ test -x $(VENV03)/bin/python || $(PYTHON312) -m venv $(VENV03); } \
	  && $(VENV03)/bin/pip install -q numpy pillow requests 'tornado<6.6' jsonpatch websocket-client \
	  && PIP_CONSTRAINT= $(VENV03)/bin/pip install -q --no-deps visdom==0.3.0 \
	  && touch $@ \
	  || { rm -rf $(VENV03); echo "could not build $(VENV03); tests/test_visdom03.py will skip"; }

ifeq ($(PYTHON312),)
setup-visdom03:
	@echo "no python3.12: skipping the visdom 0.3 server venv (tests/test_visdom03.py will skip)"
else
setup-visdom03: $(STAMP03)
endif

demo: setup
	$(VIZLAB) demo

# Chromium for the browser test (apt-get, as root). Where it cannot be installed the
# browser test is skipped with a hint, except in CI (CI=true), where it fails.
# Then the suite on every Python of PYTHONS (a missing one is skipped with one line saying so),
# and the time each took.
test: export VENV := $(VENV)
test: export PYTHONS := $(PYTHONS)
test: export WHOLE_ON := $(WHOLE_ON)
test: export PYTEST_ARGS := $(PYTEST_ARGS)
test: setup lint-imports
	bash scripts/install_browser.sh || echo "no Chromium: the browser test will be skipped (see above)"
	bash scripts/test_pythons.sh

# The layering contracts in setup.cfg ([importlinter]): which part may import which.
lint-imports: $(STAMP)
	$(VENV)/bin/lint-imports

# No server, no browser, nothing slow: the pure parts, in well under a minute.
test-fast: $(STAMP) lint-imports
	$(PY) -m pytest -q -m "not server and not browser and not slow" $(PYTEST_ARGS)

serve: setup
	$(VIZLAB) serve --detach

stop:
	$(VIZLAB) serve --stop

clean:
	rm -rf $(VENV) $(VENV03) $(foreach v,$(PYTHONS),.venv-py$(v)) *.egg-info .pytest_cache

# The README's two commands: `make demo` and `make test`. Each does its own set-up,
# and once done, set-up reinstalls nothing (a few seconds).
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
VIZLAB := $(VENV)/bin/vizlab
STAMP  := $(VENV)/.vizlab-installed
PYTEST_ARGS ?=

# Pinned, tested versions; also makes pip build visdom 0.2.4 with setuptools<81.
export PIP_CONSTRAINT := $(CURDIR)/constraints.txt
export PIP_DISABLE_PIP_VERSION_CHECK := 1

# MNIST: $VIZLAB_DATA when set, else the real files beside the checkout when they exist
# (offline machines); otherwise the runners download into ~/.vizlab/data.
ifeq ($(VIZLAB_DATA),)
ifneq ($(wildcard ../shared/data/MNIST/raw/t10k-labels-idx1-ubyte.gz),)
export VIZLAB_DATA := $(abspath ../shared/data)
endif
endif

.PHONY: setup demo test serve stop clean

# Reinstalls only when the package metadata or the pins change.
$(STAMP): setup.py setup.cfg constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q -e '.[test]'
	touch $@

# Visdom's UI files from npm (cached in ~/.cache/vizlab/npm), so its server never goes online.
setup: $(STAMP)
	$(VIZLAB) assets install

demo: setup
	$(VIZLAB) demo

# Chromium for the browser test (apt-get, as root). Where it cannot be installed the
# browser test is skipped with a hint, except in CI (CI=true), where it fails.
test: setup
	bash scripts/install_browser.sh || echo "no Chromium: the browser test will be skipped (see above)"
	$(PY) -m pytest $(PYTEST_ARGS)

serve: setup
	$(VIZLAB) serve --detach

stop:
	$(VIZLAB) serve --stop

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache

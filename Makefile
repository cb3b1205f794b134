# make site: set up, then build the example site and audit it (static, axe in Chromium, Lighthouse).   make test: set up, then run the tests.
PYTHON ?= $(shell command -v python3.12 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
SYSTEM_PACKAGES := chromium chromium-driver fonts-noto-cjk

.PHONY: setup system site test serve clean

setup: $(VENV)/.installed system audits/node_modules/.installed

$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 12))' || \
	  { echo "Healing Pixels needs Python 3.12 or newer (found $$($(PYTHON) --version)). Install it, or run: make PYTHON=/path/to/python3.12"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

# Debian's Chromium and its driver for the browser tests and audits; CJK fonts so Chinese and Korean render.
system:
	@if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null || ! dpkg -s fonts-noto-cjk >/dev/null 2>&1; then \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $(SYSTEM_PACKAGES); fi

# Lighthouse CI, pinned by audits/package-lock.json, for `build --audit full`.
audits/node_modules/.installed: audits/package-lock.json
	@command -v npm >/dev/null || { echo "npm (Node.js 20) is needed for Lighthouse: apt-get install nodejs npm"; exit 1; }
	npm ci --prefix audits --no-audit --no-fund --loglevel=error
	touch $@

site: setup
	$(BIN)/healingpixels build --audit full

test: setup
	$(BIN)/python -m pytest

serve: setup
	$(BIN)/healingpixels serve

clean:
	rm -rf $(VENV) public .healingpixels-cache

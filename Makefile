# callqa: make install | demo | test | lint | sysdeps | clean   (GNU make)
# lint-imports checks the import contracts of pyproject.toml's [tool.importlinter]; --no-cache:
# the graph builds in about a second and leaves no .import_linter_cache/ behind.

PY ?= $(shell command -v python3.11 >/dev/null 2>&1 && echo python3.11 || echo python3)
VENV = .venv
BIN = $(VENV)/bin
STAMP = $(VENV)/.installed-stamp
PYTEST_ARGS ?=
# The CPU build lies in the machines' local wheel cache; an unpinned torch pulls a multi-GB
# CUDA build, so it is installed first and on its own.
TORCH = torch==2.13.0

APT_PACKAGES = chromium postgresql

.PHONY: install demo test lint format sysdeps clean

install: $(STAMP)

$(BIN)/python:
	$(PY) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --upgrade pip
	$(BIN)/python -m pip install "$(TORCH)"
	@$(BIN)/python -W ignore -c "import torch, sys; v = torch.__version__; sys.exit(0 if torch.version.cuda is None else f'torch {v} is a CUDA build: expected the CPU build of $(TORCH)')"
	$(BIN)/python -m pip install -e ".[dev,ray]"
	@touch $@

demo: install
	$(BIN)/qa demo

test: install sysdeps
	$(BIN)/ruff check .
	$(BIN)/lint-imports --no-cache
	$(BIN)/python -m pytest -p no:cacheprovider $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/lint-imports --no-cache
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Debian packages the tests need: chromium (browser tests) and postgresql (the postgres tests
# start a throwaway cluster from its binaries).
sysdeps:
	@missing=""; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	echo "sysdeps: missing Debian packages:$$missing"; \
	if [ "$$(id -u)" = 0 ]; then \
		apt-get update && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $(APT_PACKAGES); \
	elif command -v sudo >/dev/null 2>&1; then \
		echo "sysdeps: install them with:"; \
		echo "  sudo apt-get update && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $(APT_PACKAGES)"; \
		exit 1; \
	else \
		echo "sysdeps: as root, install them with:"; \
		echo "  apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $(APT_PACKAGES)"; \
		exit 1; \
	fi

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache .demo
	find . -name __pycache__ -type d -prune -exec rm -rf {} +

# Two commands set everything up on a fresh machine with Python 3.11 (see README):
#   make demo   installs, fills the embedded SQLite database with a synthetic demo, serves http://127.0.0.1:8000
#   make test   installs with the test tools (and, as root, chromium + a Japanese font) and runs the whole suite
PY ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo serve test test-postgres browser-deps lint typecheck bench clean

$(STAMP): pyproject.toml
	$(PY) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "Python 3.11 or newer is required"; exit 1; }
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	# Bytecode for the project's own modules, as a wheel install has it (an editable install has none, and with
	# PYTHONDONTWRITEBYTECODE set every command would compile them again at start).
	$(BIN)/python -m compileall -q gateway adapters barcodes reconciliation
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/gateway demo
	$(BIN)/gateway serve

serve: $(STAMP)
	$(BIN)/gateway serve

# The browser tests need Debian's chromium and a Japanese font. Installed through apt when running as root and
# missing (apt-get update only when the package lists do not know them); otherwise say what to install and
# fail. Quick when both are there.
BROWSER_PACKAGES := chromium fonts-ipaexfont-gothic
browser-deps:
	@missing=""; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	{ fc-list 2>/dev/null | grep -qi ipaex; } || dpkg -s fonts-ipaexfont-gothic >/dev/null 2>&1 \
		|| missing="$$missing fonts-ipaexfont-gothic"; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then \
		echo "The browser tests need:$$missing. Install them as root:  apt-get install -y $(BROWSER_PACKAGES)" >&2; \
		exit 1; \
	fi; \
	echo "Installing for the browser tests:$$missing"; \
	export DEBIAN_FRONTEND=noninteractive; \
	for pkg in $$missing; do apt-cache show $$pkg >/dev/null 2>&1 || { apt-get update -q && break; }; done; \
	apt-get install -y -q $$missing

test: $(STAMP) browser-deps
	$(BIN)/python -m pytest -n 2 -q

test-postgres: $(STAMP) browser-deps
	GATEWAY_TEST_DATABASE_URL=$${GATEWAY_TEST_DATABASE_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/test} \
		$(BIN)/python -m pytest -n 2 -q

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: $(STAMP)
	$(BIN)/mypy barcodes adapters reconciliation gateway

bench: $(STAMP)
	$(BIN)/python bench/ingest.py

clean:
	rm -rf $(VENV) build *.egg-info

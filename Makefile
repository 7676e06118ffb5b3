# Two commands do all the set-up on a fresh machine: `make run` and `make test` (README.md).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
RUN_STAMP := $(VENV)/.installed-run
TEST_STAMP := $(VENV)/.installed-test
PIP_INSTALL := $(BIN)/pip install --quiet --disable-pip-version-check
# Compat mode puts the checkout on sys.path, so a new top-level package needs no reinstall.
EDITABLE := --config-settings editable_mode=compat
POSTGRES_URL ?= postgres://postgres@127.0.0.1:5432/test
REDIS_TEST_URL ?= redis://127.0.0.1:6379/15
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test test-sqlite test-services browser-deps office-deps gettext-deps clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(RUN_STAMP): setup.cfg pyproject.toml | $(BIN)/python
	$(PIP_INSTALL) -e . $(EDITABLE)
	touch $@

$(TEST_STAMP): setup.cfg pyproject.toml | $(BIN)/python
	$(PIP_INSTALL) -e '.[test]' $(EDITABLE)
	touch $@ $(RUN_STAMP)

run: $(RUN_STAMP)
	$(BIN)/kolibri-like migrate --noinput
	$(BIN)/kolibri-like setupdemo
	$(BIN)/kolibri-like start --host $(HOST) --port $(PORT)

# Debian's chromium for the browser tests (never `playwright install`, which downloads).
browser-deps:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	  elif command -v sudo >/dev/null 2>&1; then sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	  else echo "!!! chromium is missing and cannot be installed without root: browser tests will fail."; fi; }

# Debian's LibreOffice without a GUI, so office documents get (and tests check) a PDF copy:
# writer for doc/docx/odt/rtf, impress for ppt/pptx/odp.
OFFICE_PACKAGES := libreoffice-writer-nogui libreoffice-impress-nogui
office-deps:
	@{ command -v soffice >/dev/null 2>&1 && dpkg -s $(OFFICE_PACKAGES) >/dev/null 2>&1; } || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(OFFICE_PACKAGES); \
	  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(OFFICE_PACKAGES); \
	  else false; fi || { \
	    echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"; \
	    echo "!!! LibreOffice ($(OFFICE_PACKAGES)) is missing and could not be installed"; \
	    echo "!!! (no root, or no package source): the office conversion tests will fail."; \
	    echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"; }; }

# Debian's gettext (msgfmt) so the translation tests compile each .po and compare it with the
# committed .mo; the server itself only needs the committed .mo files.
gettext-deps:
	@command -v msgfmt >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gettext; \
	  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gettext; \
	  else echo "!!! gettext (msgfmt) is missing and cannot be installed without root: the .po/.mo sync test is skipped."; fi; }

# Debian's nginx for the test of the shipped nginx deployment (deploy/nginx/kolibri-like.conf)
# and the baseline of benchmarks/file_serving.py, which run their own unprivileged nginx.
.PHONY: nginx-deps
nginx-deps:
	@{ command -v nginx >/dev/null 2>&1 || test -x /usr/sbin/nginx; } || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light; \
	  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light; \
	  else false; fi || { \
	    echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"; \
	    echo "!!! nginx (Debian's nginx-light) is missing and could not be installed"; \
	    echo "!!! (no root, or no package source): tests/storage/test_nginx_deploy.py will fail"; \
	    echo "!!! and benchmarks.file_serving has no baseline."; \
	    echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"; }; }

test: $(TEST_STAMP) browser-deps office-deps gettext-deps nginx-deps
	$(BIN)/ruff check .
	$(BIN)/mypy --strict routers storage
	$(BIN)/python -m scripts.migrations_check
	$(BIN)/python manage.py check
	$(BIN)/python manage.py check --deploy --fail-level WARNING
	$(BIN)/python -m scripts.kolibri_env
	$(BIN)/pytest --durations=20
	@$(MAKE) --no-print-directory test-services

# Second pass: what touches the default database or the queue, on PostgreSQL and Redis.
test-services: $(TEST_STAMP)
	@if $(BIN)/python -m scripts.services_available "$(POSTGRES_URL)" "$(REDIS_TEST_URL)"; then \
	  echo "=== second pass: PostgreSQL ($(POSTGRES_URL)) and Redis ($(REDIS_TEST_URL)) ==="; \
	  DATABASE_URL="$(POSTGRES_URL)" REDIS_URL="$(REDIS_TEST_URL)" $(BIN)/pytest -m "services or server" --create-db --durations=20; \
	else \
	  echo ""; \
	  echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"; \
	  echo "!!! PostgreSQL or Redis is not answering: the PostgreSQL + Redis pass was NOT run."; \
	  echo "!!! Only the embedded SQLite defaults were tested. Start them and run make test-services."; \
	  echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"; \
	fi

clean:
	rm -rf $(VENV) build dist *.egg-info

# Benchmarks of issue 7 (benchmarks/RESULTS.md): smaller runs for bench-quick.
.PHONY: bench-quick bench
bench-quick: $(RUN_STAMP)
	$(BIN)/python -m benchmarks.content_api --quick
	$(BIN)/python -m benchmarks.routing_cost --quick
	$(BIN)/python -m benchmarks.many_channels --quick
	$(BIN)/python -m benchmarks.search --quick
	$(BIN)/python -m benchmarks.import_disk --quick
	$(BIN)/python -m benchmarks.publish --quick
	$(BIN)/python -m benchmarks.encode --quick
	$(BIN)/python -m benchmarks.memory --quick
	@$(MAKE) --no-print-directory nginx-deps
	$(BIN)/python -m benchmarks.file_serving --quick

BENCH_STAMP := $(VENV)/.installed-bench
$(BENCH_STAMP): setup.cfg pyproject.toml | $(BIN)/python
	$(PIP_INSTALL) -e '.[bench]' $(EDITABLE)
	touch $@

bench: $(RUN_STAMP) $(BENCH_STAMP)
	$(BIN)/python -m benchmarks.revert
	$(BIN)/python -m benchmarks.content_api
	$(BIN)/python -m benchmarks.routing_cost
	$(BIN)/python -m benchmarks.server_choice
	$(BIN)/python -m benchmarks.many_channels
	$(BIN)/python -m benchmarks.search
	$(BIN)/python -m benchmarks.import_disk
	$(BIN)/python -m benchmarks.publish
	$(BIN)/python -m benchmarks.encode
	$(BIN)/python -m benchmarks.memory
	@$(MAKE) --no-print-directory nginx-deps
	$(BIN)/python -m benchmarks.file_serving

# Scenario 9: 200 simulated learners for 10 minutes with an encode running (MINUTES=2 for less).
.PHONY: soak
MINUTES ?= 10
soak: $(RUN_STAMP)
	$(BIN)/python -m benchmarks.soak --minutes $(MINUTES)

# Offline installation (README: Installing without internet): dist/wheelhouse/ with the project's
# and every dependency's wheel for this Python and platform, install-offline.sh, and one .tar.gz.
.PHONY: wheelhouse
wheelhouse: | $(BIN)/python
	$(BIN)/python -m scripts.wheelhouse --output dist/wheelhouse

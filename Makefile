# The two commands a newcomer needs:
#   make run   -> set up, migrate, load the Thái Nguyên demo data, serve on http://127.0.0.1:8000
#   make test  -> set up (Python and system packages), run the whole suite on SQLite and PostgreSQL

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000
export FLASK_APP := wsgi.py

.PHONY: run test lint bench system-deps install install-dev clean translations

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

# Debian packages the tests need: PostgreSQL server binaries and Redis (the suite starts its
# own throwaway servers), Chromium for the browser tests, wrk for the load test.
system-deps:
	@missing=""; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	command -v redis-server >/dev/null 2>&1 || missing="$$missing redis-server"; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	command -v wrk >/dev/null 2>&1 || missing="$$missing wrk"; \
	[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || missing="$$missing fonts-dejavu-core"; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO="sudo"; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

run: install
	@mkdir -p instance
	$(BIN)/flask db upgrade
	$(BIN)/flask seed-demo --if-empty
	@echo ""
	@echo "  Chợ 4.0 is running on http://$(HOST):$(PORT)  (Ctrl+C to stop)"
	@echo ""
	$(BIN)/gunicorn --workers 2 --bind $(HOST):$(PORT) --access-logfile - wsgi:app

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/deptry .
	$(BIN)/deptry tests bench --exclude '\.venv' --extend-exclude test-artifacts --ignore DEP002,DEP004

# The suite runs on every core (pytest-xdist); the browser, scale-out and load tests each stay
# on one worker (tests/conftest.py: SERIAL_GROUPS). TEST_WORKERS=0 runs it in one process.
TEST_WORKERS ?= auto
test: install-dev system-deps lint
	@$(BIN)/pytest -n $(TEST_WORKERS) --dist loadgroup; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests: the suite is broken"; exit 1; fi; \
	exit $$rc

# wrk and PostgreSQL (bench_load.py's throwaway server) come with system-deps.
bench: install-dev system-deps
	$(BIN)/python bench/run_all.py

# Messages: the Vietnamese source strings are the msgids. Re-extract them from market/ and
# templates/, merge them into every catalog (new ones arrive untranslated, or "fuzzy" with a
# guess), then compile the .mo files that are committed next to the .po files.
# tests/i18n fails until every msgid has an English translation and the .mo is up to date.
TRANSLATIONS := market/translations
translations: install-dev
	$(BIN)/pybabel extract -F $(TRANSLATIONS)/babel.cfg -k _l -k lazy_gettext \
	  --no-location --sort-output --project "Chợ 4.0" -o $(TRANSLATIONS)/messages.pot .
	$(BIN)/pybabel update -i $(TRANSLATIONS)/messages.pot -d $(TRANSLATIONS) --ignore-obsolete
	$(BIN)/pybabel compile --statistics -d $(TRANSLATIONS)

clean:
	rm -rf $(VENV) instance .pytest_cache .ruff_cache .hypothesis test-artifacts

# CME Portal: `make run` serves the demo portal, `make test` runs the whole suite.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

# The newest Python >= 3.12 on this machine (Django 6 needs 3.12). pyenv shims
# that exist but cannot run are skipped by actually running each candidate.
PYTHON ?= $(shell for c in python3.14 python3.13 python3.12 \
	$$HOME/.pyenv/versions/3.14*/bin/python3 $$HOME/.pyenv/versions/3.13*/bin/python3 $$HOME/.pyenv/versions/3.12*/bin/python3 \
	/usr/local/bin/python3.13 /usr/bin/python3.13 /usr/local/bin/python3.12 /usr/bin/python3.12 python3; do \
	if $$c -c 'import sys; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1; then echo $$c; break; fi; done)

.PHONY: install run test bench migrate demo messages fonts clean check-python

check-python:
	@if [ -z "$(PYTHON)" ]; then \
		echo "No Python 3.12 or newer found (Django 6 needs it). Install python3.13 (or 3.12) and run again," >&2; \
		echo "or point at one: make PYTHON=/path/to/python3.13 run" >&2; exit 1; fi

$(VENV)/.installed: pyproject.toml | check-python
	@test -x $(PY) || { echo "Creating $(VENV) with $(PYTHON)"; $(PYTHON) -m venv $(VENV); }
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $@

install: $(VENV)/.installed

migrate: install
	DEBUG=1 $(PY) manage.py migrate --noinput

# The address printed in QR codes and certificates follows HOST and PORT unless PORTAL_BASE_URL is given.
PORTAL_BASE_URL ?= http://$(HOST):$(PORT)

demo: migrate
	DEBUG=1 PORTAL_BASE_URL=$(PORTAL_BASE_URL) $(PY) manage.py seed_demo

# CJK fonts for certificates: installed where we can (root with apt); otherwise the
# portal falls back to reportlab's built-in font and says so here.
fonts:
	@if [ -e /usr/share/fonts/truetype/wqy/wqy-zenhei.ttc ] && [ -e /usr/share/fonts/truetype/hanazono/HanaMinB.ttf ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get update -q && apt-get install -y -q --no-install-recommends fonts-wqy-zenhei fonts-hanazono; \
	else echo "Note: install fonts-wqy-zenhei and fonts-hanazono for embedded CJK fonts in certificates."; fi

# SQLite file, tasks run eagerly, DEBUG on: the portal as a new user first sees it.
run: fonts demo
	@echo "Serving http://$(HOST):$(PORT)/  (demo accounts: see README.md; password Demo@2026)"
	DEBUG=1 PORTAL_BASE_URL=$(PORTAL_BASE_URL) $(PY) manage.py runserver $(HOST):$(PORT)

# The whole suite. DATABASE_URL / REDIS_URL, when set, point it at PostgreSQL and Redis.
test: install
	$(PY) -m pytest $(PYTEST_ARGS)

bench: install
	$(PY) -m bench $(BENCH)

# Rebuild the translation catalogues after changing user-facing strings.
messages: install
	DEBUG=1 $(PY) manage.py makemessages -l en --ignore '.venv/*' --ignore 'test-artifacts/*'
	DEBUG=1 $(PY) manage.py compilemessages -l en --ignore '.venv/*'

clean:
	rm -rf $(VENV) db.sqlite3 test-artifacts .pytest_cache

# Two commands for a newcomer: `make demo` and `make test`. Both start with `make setup`, which is idempotent.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
APT_PACKAGES := poppler-utils chromium fonts-ipaexfont fonts-noto-cjk fonts-seto fonts-kiloji fonts-takao-mincho fonts-vlgothic fonts-horai-umefont fonts-klee fonts-motoya-l-cedar tesseract-ocr tesseract-ocr-jpn postgresql
STAMPS := .stamps

.PHONY: setup demo test bench clean-var apt venv postgres

setup: apt venv

apt: $(STAMPS)/apt
$(STAMPS)/apt: Makefile
	@mkdir -p $(STAMPS)
	@missing=""; for p in $(APT_PACKAGES); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "Installing Debian packages:$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing; \
	fi
	@touch $@

venv: $(STAMPS)/venv
$(STAMPS)/venv: pyproject.toml
	@mkdir -p $(STAMPS)
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	@touch $@

demo: setup
	$(PY) -m taxintake.demo

test: setup postgres
	$(PY) -m pytest -q

bench: setup
	$(PY) benchmarks/run_all.py

# Debian's PostgreSQL on loopback for the ledger tests on PostgreSQL (and for trying the several-machine set-up).
# Idempotent: starts the cluster if it is down and creates the role once. Tests make their own databases.
PG_ROLE := taxintake
postgres: apt
	@SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	if ! pg_lsclusters -h | grep -q .; then $$SUDO pg_createcluster --start $$(ls /usr/lib/postgresql | sort -n | tail -1) main >/dev/null; fi; \
	pg_lsclusters -h | awk '$$4 != "online" {print $$1, $$2}' | while read version cluster; do \
	  $$SUDO pg_ctlcluster $$version $$cluster start || pg_lsclusters -h | grep -q "$$version *$$cluster .*online"; done; \
	for i in $$(seq 1 30); do pg_isready -q -h 127.0.0.1 && break; sleep 1; done; \
	as_postgres() { if [ "$$(id -u)" = 0 ]; then su postgres -s /bin/sh -c "$$1"; else sudo -u postgres sh -c "$$1"; fi; }; \
	as_postgres "psql -qtAc \"SELECT 1 FROM pg_roles WHERE rolname = '$(PG_ROLE)'\"" | grep -q 1 || \
	  as_postgres "psql -qc \"CREATE ROLE $(PG_ROLE) LOGIN PASSWORD '$(PG_ROLE)' CREATEDB\""; \
	echo "PostgreSQL ready: postgresql://$(PG_ROLE):$(PG_ROLE)@127.0.0.1:5432/postgres"

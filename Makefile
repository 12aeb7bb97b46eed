# Settle — every target sets itself up: `make run` and `make test` work on a fresh clone.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# site-packages of the venv; evaluated when used (the venv may not exist when make starts)
SITE = $$($(PY) -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
PROTOS := $(shell find protos -name '*.proto' 2>/dev/null)
SERVICES := accounts disputes escalation

.DEFAULT_GOAL := help

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(VENV)/.installed: requirements.lock pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.lock
	@# the project root and the generated code are importable from the venv, without an install step
	@printf '%s\n%s\n' "$(CURDIR)" "$(CURDIR)/gen" > "$(SITE)/settle-dev.pth"
	@touch $@

venv: $(VENV)/.installed ## create the virtual environment and install pinned dependencies

gen/.built: $(VENV)/.installed $(PROTOS)
	@rm -rf gen && mkdir -p gen
	$(PY) -m grpc_tools.protoc -Iprotos -I"$(SITE)" \
	  --python_out=gen --pyi_out=gen --grpc_python_out=gen $(PROTOS)
	@touch $@

gen: gen/.built ## generate protobuf and gRPC code into gen/

setup: gen ## venv + generated code (what run and test need)

migrate: setup ## apply database migrations of every service (SQLite by default)
	@for s in $(SERVICES); do test -d services/$$s/migrations && $(PY) -m services.$$s migrate || true; done

migration: setup ## new migration from the models: make migration SERVICE=accounts MSG="add x"
	$(PY) -m tools.makemigration "$(SERVICE)" "$(MSG)"

run: setup ## migrate and start every service and the gateway; Ctrl-C stops them
	$(PY) -m tools.run_all

test: setup browser ## run the whole test suite (PostgreSQL tests need it; required when CI=true)
	$(PY) -m pytest $(PYTEST_ARGS)

browser: ## headless Chromium for the console's browser tests (Debian's chromium package)
	@test -x /usr/bin/chromium || { apt-get update -qq && apt-get install -y -qq chromium; }

BUF := tools/buf/node_modules/.bin/buf

# npm ci installs exactly the lock (every platform's optional binary is listed in it) and
# refuses a lock out of step with package.json; after changing package.json run
# `npm install --package-lock-only` in tools/buf and commit both files
$(BUF): tools/buf/package.json tools/buf/package-lock.json
	cd tools/buf && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# what the type checker covers: the kit and the layers whose annotations others code against
TYPED := common $(wildcard services/*/domain services/*/api)

lint: setup $(BUF) ## ruff, mypy (on $(TYPED)) and buf (proto lint, installed from the npm registry)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy $(TYPED)
	$(PY) -m grpc_tools.protoc -Iprotos -I"$(SITE)" --include_imports --include_source_info \
	  --descriptor_set_out=gen/lint.binpb $(PROTOS)
	$(BUF) lint gen/lint.binpb --config protos/buf.yaml

format: setup ## format the code with ruff
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

token: setup ## print a development token: make token ROLE=collector [TEAM=SALES] [SUB=alice]
	@$(PY) -m gateway.devtoken --role "$(ROLE)" --team "$(TEAM)" --subject "$(SUB)"

bench: setup ## full benchmarks: prints the table, writes bench/results/*.json
	$(PY) -m bench --mode full

bench-quick: setup ## CI-sized benchmarks (under 3 minutes)
	$(PY) -m bench --mode quick

CHAOS_MODE ?= short
chaos: setup ## fault test on a private PostgreSQL: make chaos [CHAOS_MODE=short|long] [SEED=1]
	@command -v initdb >/dev/null || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 \
	  || { apt-get update -qq && apt-get install -y -qq postgresql; }
	$(PY) -m tools.chaos --$(CHAOS_MODE) --seed $(or $(SEED),1)

lock: ## re-resolve pinned dependencies into requirements.lock
	$(PYTHON) -m venv /tmp/settle-lock && /tmp/settle-lock/bin/pip install -q '.[dev]' \
	  && /tmp/settle-lock/bin/pip freeze --exclude settle > requirements.lock

clean: ## remove generated code, local databases and the venv
	rm -rf gen var $(VENV) .pytest_cache .mypy_cache

.PHONY: help venv gen setup migrate migration run test browser lint format token bench bench-quick chaos lock clean

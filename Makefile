# Two commands for a fresh machine with Python 3.11+:
#   make run    — install, migrate, load demo data, start web + worker (or in-process jobs)
#   make test   — install and run the whole test suite
.PHONY: run test lint format bench install

run:
	@bin/run

test:
	@bin/test

install:
	@bin/install

lint:
	@.venv/bin/ruff check . && .venv/bin/ruff format --check . && .venv/bin/mypy

format:
	@.venv/bin/ruff format . && .venv/bin/ruff check --fix .

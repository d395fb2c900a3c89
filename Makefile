# Two commands for a fresh machine with Python 3.11+:
#   make run    — install, migrate, load demo data, start web + worker (or in-process jobs)
#   make test   — install and run the whole test suite
.PHONY: run test lint format bench install messages

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

# The English catalogue from the marked strings, merged into each language's messages.po
# (the .mo files are compiled when the app starts).
messages:
	@.venv/bin/pybabel extract -F babel.cfg -k _l -k lazy_gettext -k N_ -k nav_item:1 --no-location --sort-output -o translations/messages.pot . && .venv/bin/pybabel update -i translations/messages.pot -d translations --no-fuzzy-matching --ignore-obsolete

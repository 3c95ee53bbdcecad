# Two commands do all set-up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test bench lint clean browser translations

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/connector demo

# The tests marked `serial` (timing-sensitive under CPU contention) run alone first; the rest
# run spread over the cores (pytest-xdist; each worker has its own SQLite files and PostgreSQL
# database). TEST_WORKERS=0 runs everything in one process.
TEST_WORKERS ?= auto
test: $(STAMP) browser
	$(BIN)/ruff check connector providers tests bench
	$(BIN)/python -m pytest -q -m serial
	$(BIN)/python -m pytest -q -m "not serial" -n $(TEST_WORKERS) --dist load

# The browser tests drive Debian's chromium through Playwright (never a downloaded browser).
# Installed here when missing; PLAYWRIGHT_SKIP=1 skips the browser tests and this step.
CHROMIUM ?= $(or $(shell command -v chromium 2>/dev/null),/usr/bin/chromium)
APT := DEBIAN_FRONTEND=noninteractive apt-get -q -o DPkg::Lock::Timeout=300
APT_INSTALL := $(APT) install -y --no-install-recommends chromium

browser:
	@if [ "$(PLAYWRIGHT_SKIP)" = 1 ] || [ -x "$(CHROMIUM)" ]; then \
	  :; \
	elif [ "$$(id -u)" = 0 ]; then \
	  echo "Installing Debian's chromium for the browser tests"; \
	  $(APT_INSTALL) >/dev/null 2>&1 || { $(APT) update && $(APT_INSTALL); }; \
	else \
	  echo "The browser tests need Debian's chromium, which is not installed."; \
	  echo "Run 'sudo apt-get install --no-install-recommends chromium' once,"; \
	  echo "or skip the browser tests with 'PLAYWRIGHT_SKIP=1 make test'."; \
	  exit 1; \
	fi

bench: $(STAMP)
	$(BIN)/python -m bench

lint: $(STAMP)
	$(BIN)/ruff check connector providers tests bench

# Developers: collect the UI's strings (Dutch msgids) and merge them into the English .po.
# Then translate the new/empty msgstr entries and remove "fuzzy" flags; the app compiles
# the .mo at start (tests fail while a msgid has no English).
POT := $(VENV)/messages.pot
translations: $(STAMP)
	$(BIN)/pybabel -q extract -F babel.cfg -k lazy_gettext -k _l -k N_ --no-location \
		--sort-output --project preincasso-connector -o $(POT) .
	$(BIN)/pybabel -q update -i $(POT) -d connector/translations -l en --width 100 \
		--ignore-obsolete
	@$(BIN)/python -c "from babel.messages.pofile import read_po; \
		c = read_po(open('connector/translations/en/LC_MESSAGES/messages.po', 'rb')); \
		todo = [m.id for m in c if m.id and (m.fuzzy or not all(m.string if isinstance(m.string, tuple) else [m.string]))]; \
		print(len(todo), 'to translate (empty or fuzzy)'); [print('  ', t) for t in todo]"

clean:
	rm -rf $(VENV) instance .pytest_cache

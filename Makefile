# Two commands do all set-up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test bench lint clean translations

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/connector demo

test: $(STAMP)
	$(BIN)/ruff check connector providers tests bench
	$(BIN)/python -m pytest -q

bench: $(STAMP)
	$(BIN)/python -m bench

lint: $(STAMP)
	$(BIN)/ruff check connector providers tests bench

# Developers: collect the UI's strings (Dutch msgids) and merge them into the English .po.
# Then translate the new/empty msgstr entries and remove "fuzzy" flags; the app compiles
# the .mo at start (tests fail while a msgid has no English).
POT := $(VENV)/messages.pot
translations: $(STAMP)
	$(BIN)/pybabel -q extract -F babel.cfg -k lazy_gettext -k _l --no-location \
		--sort-output --project preincasso-connector -o $(POT) .
	$(BIN)/pybabel -q update -i $(POT) -d connector/translations -l en --width 100 \
		--ignore-obsolete
	@$(BIN)/python -c "from babel.messages.pofile import read_po; \
		c = read_po(open('connector/translations/en/LC_MESSAGES/messages.po', 'rb')); \
		todo = [m.id for m in c if m.id and (m.fuzzy or not all(m.string if isinstance(m.string, tuple) else [m.string]))]; \
		print(len(todo), 'to translate (empty or fuzzy)'); [print('  ', t) for t in todo]"

clean:
	rm -rf $(VENV) instance .pytest_cache

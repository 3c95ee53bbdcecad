"""Build step: the wheel carries everything the app needs (pyproject.toml holds the metadata).

- ``templates/`` stays at the top of the source tree (one source) and is copied into the
  package as ``connector/templates``;
- the translation catalogues are compiled here (``.po`` -> ``.mo``), so an installed app never
  writes into its own package directory.

Editable installs (``make .venv/.installed``) skip both: the app then reads the top-level
``templates/`` and compiles catalogues into ``DATA_DIR`` (see connector/resources.py).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent


class BuildWithResources(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        package = Path(self.build_lib) / "connector"
        shutil.rmtree(package / "templates", ignore_errors=True)  # a template removed since
        shutil.copytree(ROOT / "templates", package / "templates")
        _compile_catalogues(ROOT / "connector" / "translations", package / "translations")


def _compile_catalogues(source: Path, target: Path) -> None:
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    for po_path in sorted(source.glob("*/LC_MESSAGES/messages.po")):
        with po_path.open("rb") as po_file:
            catalog = read_po(po_file, locale=po_path.parent.parent.name, domain="messages")
        mo_path = target / po_path.relative_to(source).with_suffix(".mo")
        mo_path.parent.mkdir(parents=True, exist_ok=True)
        with mo_path.open("wb") as mo_file:
            write_mo(mo_file, catalog, use_fuzzy=False)


setup(cmdclass={"build_py": BuildWithResources})

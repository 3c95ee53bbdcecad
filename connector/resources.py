"""Where the app finds what it ships (templates, catalogues) and where it keeps its data.

The source tree keeps ``templates/`` at the top level; a built package (wheel) carries a copy in
``connector/templates`` and the compiled ``.mo`` catalogues (see ``setup.py``). Data never goes
into the package: it goes under ``DATA_DIR`` (default ``instance/`` beside the current
directory), so a read-only or reinstalled package loses nothing.
"""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
_SHIPPED_TEMPLATES = PACKAGE_DIR / "templates"
# A built package carries its templates inside; a checkout (editable install) does not.
BUILT = _SHIPPED_TEMPLATES.is_dir()
TEMPLATES = _SHIPPED_TEMPLATES if BUILT else PACKAGE_DIR.parent / "templates"
TRANSLATIONS = PACKAGE_DIR / "translations"


def data_dir(environ: dict[str, str] | os._Environ[str] | None = None) -> Path:
    """``DATA_DIR`` as an absolute path; unset or empty: ``instance/`` in the current directory."""
    env = os.environ if environ is None else environ
    value = (env.get("DATA_DIR") or "").strip()
    return Path(value or "instance").expanduser().resolve()

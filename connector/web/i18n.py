"""The web UI in Dutch (the source language: Dutch strings are the msgids) and English.

Which language a page is in: an explicit choice kept in the session (the NL | EN switch in the
header), else the best match of the browser's Accept-Language, else Dutch. This is the UI of
creditors and operators only; what debtors receive picks its own language per debtor.

The English catalogue is ``connector/translations/en/LC_MESSAGES/messages.po``. Its compiled
``.mo`` is not in git. A built package (wheel) ships it compiled at build time (``setup.py``);
in a checkout the app compiles it at start, when missing or older than the ``.po``, into
``DATA_DIR/translations``, so ``make demo`` and ``make test`` stay the only set-up commands.
Nothing is ever written into the package directory.
"""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Blueprint, Flask, abort, has_request_context, redirect, request, session
from flask_babel import Babel, get_locale
from werkzeug.wrappers import Response

from connector.resources import BUILT, TRANSLATIONS
from connector.web.auth import safe_next

LANGUAGES = ("nl", "en")  # the first is the default and the source language
DEFAULT = LANGUAGES[0]
SESSION_KEY = "lang"
# Babel locales for money and dates on pages, per UI language.
FORMAT_LOCALES = {"nl": "nl_NL", "en": "en_GB"}
SOURCE_DIR = TRANSLATIONS
DOMAIN = "messages"

log = logging.getLogger(__name__)
bp = Blueprint("i18n", __name__)


def select_locale() -> str:
    """The session's explicit choice, else the browser's best match, else Dutch."""
    if not has_request_context():
        return DEFAULT  # e.g. a lazy label turned into text in a CLI command
    chosen = session.get(SESSION_KEY)
    if chosen in LANGUAGES:
        return chosen
    return request.accept_languages.best_match(LANGUAGES) or DEFAULT


def ui_language() -> str:
    """The language of the page being rendered (Dutch outside a request)."""
    locale = get_locale()
    return locale.language if locale is not None and locale.language in LANGUAGES else DEFAULT


def format_locale() -> str:
    """The Babel locale for money and dates on the page being rendered."""
    return FORMAT_LOCALES[ui_language()]


@bp.get("/lang/<code>")
def switch(code: str) -> Response:
    """Remember the chosen language and go back to the page it was chosen on (local only)."""
    if code not in LANGUAGES:
        abort(404)
    session[SESSION_KEY] = code
    return redirect(safe_next(request.args.get("next")))


def _compile(po_path: Path, mo_path: Path) -> None:
    """Write the .mo next to a temporary name and rename it, so a reader never sees half."""
    with po_path.open("rb") as po_file:
        catalog = read_po(po_file, locale=po_path.parent.parent.name, domain=DOMAIN)
    mo_path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".messages-", suffix=".mo", dir=mo_path.parent)
    try:
        with os.fdopen(fd, "wb") as mo_file:
            write_mo(mo_file, catalog, use_fuzzy=False)
        os.chmod(tmp, 0o644)  # mkstemp makes it private; the .mo is no secret
        os.replace(tmp, mo_path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def compile_translations(source: Path, cache: Path) -> Path:
    """(Re)build in ``cache`` every .mo that is missing or older than its .po; returns ``cache``.

    ``source`` is only read: in a checkout it is the source tree, and an installed package is
    no place for files written at run time (read-only, and left behind by an uninstall).
    """
    for po_path in sorted(source.glob(f"*/LC_MESSAGES/{DOMAIN}.po")):
        relative = po_path.relative_to(source).with_suffix(".mo")
        mo_path = cache / relative
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        _compile(po_path, mo_path)
        log.info("compiled %s", relative)
    return cache


def shipped_catalogues(source: Path) -> bool:
    """Whether ``source`` holds a compiled .mo for every .po (a built package does)."""
    catalogues = list(source.glob(f"*/LC_MESSAGES/{DOMAIN}.po"))
    return bool(catalogues) and all(po.with_suffix(".mo").is_file() for po in catalogues)


def translation_directory(source: Path, cache: Path, built: bool) -> Path:
    """Where Flask-Babel loads catalogues from: the package's own when built, else ``cache``."""
    if built and shipped_catalogues(source):
        return source
    return compile_translations(source, cache)


def init_app(app: Flask) -> None:
    """Flask-Babel with our locale selector and freshly compiled catalogues."""
    directory = translation_directory(SOURCE_DIR, Path(app.instance_path) / "translations", BUILT)
    app.config["BABEL_DEFAULT_LOCALE"] = DEFAULT
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(directory)
    # One Babel per app: Flask-Babel caches loaded catalogues on the instance.
    Babel(app, locale_selector=select_locale)
    app.jinja_env.globals["ui_language"] = ui_language
    app.jinja_env.globals["LANGUAGES"] = LANGUAGES
    app.register_blueprint(bp)

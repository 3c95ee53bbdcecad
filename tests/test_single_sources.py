"""One place for each shared fact: the Dutch time zone, the date formatters, the SMTP receiver.

These were copied around (seven zone declarations, four ways of writing a date, the
production bounce listener borrowing the test capture's private server class); the checks
read the source so a new copy fails here instead of drifting unnoticed.
"""

from __future__ import annotations

import ast
from pathlib import Path

from tests.test_import_cycles import import_graph

ROOT = Path(__file__).resolve().parent.parent
CONNECTOR = ROOT / "connector"


def _sources(*folders: Path) -> dict[str, str]:
    return {str(path.relative_to(ROOT)): path.read_text(encoding="utf-8")
            for folder in folders or (CONNECTOR,) for path in sorted(folder.rglob("*.py"))}


def _names_the_zone(node: ast.AST) -> bool:
    """``ZoneInfo("Europe/Amsterdam")`` or ``timezone="Europe/Amsterdam"`` in code (not in a
    message or a docstring)."""
    if isinstance(node, ast.Call):
        args = [*node.args, *(k.value for k in node.keywords if k.arg in ("key", "timezone"))]
        return any(isinstance(a, ast.Constant) and a.value == "Europe/Amsterdam" for a in args)
    return False


def test_the_dutch_time_zone_is_declared_once_for_connector_and_providers() -> None:
    declared = [name for name, text in _sources(CONNECTOR, ROOT / "providers").items()
                if any(_names_the_zone(node) for node in ast.walk(ast.parse(text)))]
    assert declared == ["providers/zones.py"]


def test_dates_and_money_are_formatted_by_connector_formatting_only() -> None:
    babel_users = []
    for name, text in _sources().items():
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.ImportFrom) and node.module in ("babel.dates",
                                                                     "babel.numbers"):
                if node.module == "babel.numbers" and all(
                        alias.name in ("format_decimal", "format_percent")
                        for alias in node.names):
                    continue  # plain counts and percentages, not money
                babel_users.append(name)
    assert sorted(set(babel_users)) == ["connector/formatting.py"]


def test_the_bounce_listener_does_not_borrow_the_test_capture_server() -> None:
    graph = import_graph(deferred=True)
    assert "connector.channels.smtp_capture" not in graph["connector.bounces"]
    assert "connector.channels.smtp_receiver" in graph["connector.bounces"]
    # The capture builds on the production receiver, never the other way round.
    assert "connector.channels.smtp_receiver" in graph["connector.channels.smtp_capture"]
    assert "connector.channels.smtp_capture" not in graph["connector.channels.smtp_receiver"]


def test_no_module_imports_a_private_name_of_a_channel() -> None:
    private = []
    for name, text in _sources().items():
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
                    "connector.channels."):
                private += [f"{name}: {node.module}.{alias.name}" for alias in node.names
                            if alias.name.startswith("_")]
    assert not private


def test_the_split_modules_stay_small() -> None:
    sizes = {str(path.relative_to(ROOT)): len(path.read_text(encoding="utf-8").splitlines())
             for folder in ("channels", "models") for path in (CONNECTOR / folder).glob("*.py")}
    assert "connector/models/__init__.py" in sizes
    assert {name: n for name, n in sizes.items() if n > 600} == {}

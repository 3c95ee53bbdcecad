"""Every "legal-nl §x" the code cites resolves to a heading of docs/legal-nl.md.

The legal rules cite the team's legal reference by section so counsel can check each rule
against its source; the reference lives in the repository (docs/legal-nl.md), and a section
number that is not a heading there is a citation nobody can follow.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "docs" / "legal-nl.md"
CITING = ("connector", "templates")
SUFFIXES = {".py", ".html", ".txt", ".j2", ".jinja", ".md"}

_HEADING = re.compile(r"^#+\s+(\d+(?:\.\d+)*)\.?\s", re.MULTILINE)
_CITATION = re.compile(r"§\s?(\d+(?:\.\d+)*)")


def reference_sections() -> set[str]:
    return set(_HEADING.findall(REFERENCE.read_text(encoding="utf-8")))


def citations() -> dict[str, set[str]]:
    """Section number -> the files (relative paths) that cite it."""
    found: dict[str, set[str]] = {}
    for folder in CITING:
        for path in sorted((ROOT / folder).rglob("*")):
            if path.suffix not in SUFFIXES or not path.is_file():
                continue
            for section in _CITATION.findall(path.read_text(encoding="utf-8")):
                found.setdefault(section.rstrip("."), set()).add(str(path.relative_to(ROOT)))
    return found


def test_reference_has_its_numbered_sections() -> None:
    sections = reference_sections()
    assert {"1.2", "1.3", "2.1", "4.4", "7.1", "7.3"} <= sections


def test_every_cited_section_is_a_heading_of_the_reference() -> None:
    cited = citations()
    assert "7.3" in cited and "2.1" in cited, "the scan must see the legal rules' citations"
    missing = {section: sorted(files) for section, files in cited.items()
               if section not in reference_sections()}
    assert not missing, f"cited sections without a heading in docs/legal-nl.md: {missing}"


def test_the_code_cites_the_reference_in_the_repository() -> None:
    outside = [str(path.relative_to(ROOT)) for folder in CITING
               for path in (ROOT / folder).rglob("*.py")
               if "shared/reference/legal-nl" in path.read_text(encoding="utf-8")]
    assert not outside, f"cite docs/legal-nl.md, not a path outside the repository: {outside}"

"""The repository stands on its own: what its documents link to is inside it."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = [
    ROOT / "README.md",
    *sorted((ROOT / "docs").glob("*.md")),
    ROOT / "tests/letta_samples/README.md",
]
SOURCES = [
    path
    for folder in ("dashboard", "steps", "templates", "static/js", "docs", "tests")
    for path in (ROOT / folder).rglob("*")
    if path.suffix in (".py", ".html", ".js", ".md") and path != Path(__file__)
] + [ROOT / "README.md", ROOT / "Makefile"]
MARKDOWN_LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_in_the_documents_leads_to_a_file_of_the_repository(document):
    links = [link for link in MARKDOWN_LINK.findall(document.read_text()) if "://" not in link]
    for link in links:
        target = (document.parent / link).resolve()
        assert target.exists(), f"{link} in {document.name} leads nowhere"
        assert target.is_relative_to(ROOT), f"{link} in {document.name} leads out of the repository"


def test_no_file_cites_documents_outside_the_repository():
    outside = re.compile(r"\.\./shared/|/work/|(?<![\w/])shared/notes/|(?<![\w/.])letta-samples/")
    cited = [f"{p.relative_to(ROOT)}: {m.group(0)}" for p in SOURCES for m in outside.finditer(p.read_text())]
    assert cited == []


def test_the_letta_api_reference_is_in_the_repository_and_has_every_section_the_code_cites():
    reference = (ROOT / "docs/letta-api.md").read_text()
    headings = set(re.findall(r"^#{2,3} (\d+(?:\.\d+)?)\.? ", reference, re.MULTILINE))
    cited = {
        section
        for p in SOURCES
        for group in re.findall(r"§(\d+(?:\.\d+)?(?:-\d+)?)", p.read_text())
        for section in group.split("-")
    }
    assert cited and cited <= headings, sorted(cited - headings)

"""Template sources: mistakes Django renders silently into a page, caught before a user sees them."""

from pathlib import Path

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


def test_no_template_comment_spans_lines_so_none_is_shown_on_a_page():
    # Django's {# #} comment is one line only: a multi-line one is printed into the page as text.
    unclosed = [
        f"{path.relative_to(TEMPLATES)}:{number}"
        for path in sorted(TEMPLATES.rglob("*.html"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if "{#" in line and "#}" not in line[line.index("{#") :]
    ]
    assert unclosed == [], "use {% comment %} for these: " + ", ".join(unclosed)

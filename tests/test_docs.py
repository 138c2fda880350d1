"""The documentation holds together: README.md stays a short front page, and every relative link
and anchor in README.md and docs/*.md leads somewhere (anchors as GitHub makes them from headings).
"""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README_MAX_LINES = 220

LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
FENCE = re.compile(r"^\s*(```|~~~)")
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")


def documents() -> list[Path]:
    """README.md and every page of docs/."""
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def prose(text: str) -> list[str]:
    """The lines outside fenced code blocks, inline code spans blanked out (links there are text)."""
    lines, fenced = [], False
    for line in text.splitlines():
        if FENCE.match(line):
            fenced = not fenced
            lines.append("")
            continue
        lines.append("" if fenced else re.sub(r"`[^`]*`", lambda m: " " * len(m.group()), line))
    return lines


def slug(heading: str) -> str:
    """GitHub's anchor of a heading: its text in lower case, punctuation dropped, spaces to '-'."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link's text stays
    text = re.sub(r"[*`]", "", text)
    text = text.strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    """The anchors of a Markdown file's headings (a repeated one gets -1, -2, ... as on GitHub)."""
    found, seen = set(), {}
    fenced = False
    for line in path.read_text().splitlines():
        if FENCE.match(line):
            fenced = not fenced
            continue
        match = None if fenced else HEADING.match(line)
        if match:
            base = slug(match.group(2))
            n = seen.get(base, 0)
            found.add(base if n == 0 else f"{base}-{n}")
            seen[base] = n + 1
    return found


def broken_links(path: Path) -> list[str]:
    """Every relative link of a Markdown file whose file or anchor does not exist, as 'LINE: target'."""
    problems = []
    for number, line in enumerate(prose(path.read_text()), 1):
        for target in LINK.findall(line):
            if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I):  # http:, https:, mailto:
                continue
            file_part, _, anchor = target.partition("#")
            dest = (path.parent / file_part).resolve() if file_part else path
            if not dest.exists():
                problems.append(f"{path.name}:{number}: {target} (no such file)")
            elif anchor and (dest.suffix != ".md" or anchor not in anchors(dest)):
                problems.append(f"{path.name}:{number}: {target} (no such anchor)")
    return problems


def test_every_relative_link_and_anchor_resolves():
    problems = [p for doc in documents() for p in broken_links(doc)]
    assert not problems, "broken links:\n" + "\n".join(problems)


def test_the_link_check_finds_a_broken_file_and_anchor(tmp_path):
    (tmp_path / "b.md").write_text("# B page\n\n## Solvers, and Debian's Gecode\n")
    page = tmp_path / "a.md"
    page.write_text(
        "# A\n\n[ok](b.md#solvers-and-debians-gecode) [ok](#a) `[code](nowhere.md)`\n"
        "[gone](c.md) [bad anchor](b.md#solvers) ![img](missing.png) [web](https://example.org/x)\n"
        "```\n[fenced](nowhere.md)\n```\n"
    )
    assert broken_links(page) == [
        "a.md:4: c.md (no such file)",
        "a.md:4: b.md#solvers (no such anchor)",
        "a.md:4: missing.png (no such file)",
    ]


def test_anchors_follow_githubs_rules(tmp_path):
    page = tmp_path / "p.md"
    page.write_text(
        "# CP-SAT model files (`.pb`, `.pbtxt`)\n## Fault injection: `bench/faults.py`\n"
        "## Notes\n## Notes\n```\n# not a heading\n```\n"
    )
    assert anchors(page) == {
        "cp-sat-model-files-pb-pbtxt",
        "fault-injection-benchfaultspy",
        "notes",
        "notes-1",
    }


def test_readme_is_a_short_front_page_that_links_every_docs_page():
    readme = (ROOT / "README.md").read_text()
    assert len(readme.splitlines()) <= README_MAX_LINES, "README.md is a front page: move detail into docs/"
    assert "bash scripts/test.sh" in readme  # the test command CI and newcomers read there
    for page in sorted((ROOT / "docs").glob("*.md")):
        assert f"](docs/{page.name})" in readme, f"README.md does not link docs/{page.name}"


def test_every_docs_page_has_a_title_and_links_back_to_the_readme():
    for page in sorted((ROOT / "docs").glob("*.md")):
        text = page.read_text()
        assert text.startswith("# "), f"{page.name} does not start with a title"
        assert "](../README.md)" in text, f"{page.name} does not link back to README.md"

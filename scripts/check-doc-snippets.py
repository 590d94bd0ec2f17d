#!/usr/bin/env python3
"""Checks that every code snippet quoted in README.md and docs/*.md is the code CI compiles.

In a page, a fenced block preceded by

    <!-- snippet: examples/docs/some_example.cpp#name -->

must be byte-identical to the region of that file between the lines

    // [snippet:name]
    ...
    // [end:name]

after the region's common indentation is stripped (marker lines of other snippets inside the
region are left out). A ```cpp block without such a comment is a problem too: every C++ block
of the pages is code that compiles. Exits 0 when every snippet matches, 1 with a message naming the page,
the file and the snippet for each one that does not, 2 on bad usage.

    scripts/check-doc-snippets.py [REPOSITORY_ROOT]
"""

import difflib
import pathlib
import re
import sys

REFERENCE = re.compile(r"^\s*<!--\s*snippet:\s*(?P<path>[^#\s]+)#(?P<name>[\w.-]+)\s*-->\s*$")
MARKER = re.compile(r"^\s*//\s*\[(?P<kind>snippet|end):(?P<name>[\w.-]+)\]\s*$")
FENCE = re.compile(r"^```")


def dedent(lines):
    """Strips the indentation common to the non-blank lines; blank lines become empty."""
    indents = [len(line) - len(line.lstrip(" \t")) for line in lines if line.strip()]
    cut = min(indents) if indents else 0
    return [line[cut:] if line.strip() else "" for line in lines]


def regions(path):
    """Every marked region of a source file: {name: [lines]}; raises ValueError on bad markers."""
    found = {}
    open_regions = {}
    text = path.read_text(encoding="utf-8")
    for number, line in enumerate(text.splitlines(), start=1):
        marker = MARKER.match(line)
        if marker:
            name = marker.group("name")
            if marker.group("kind") == "snippet":
                if name in open_regions or name in found:
                    raise ValueError(f"{path}:{number}: snippet '{name}' is marked twice")
                open_regions[name] = []
            else:
                if name not in open_regions:
                    raise ValueError(f"{path}:{number}: [end:{name}] without [snippet:{name}]")
                found[name] = dedent(open_regions.pop(name))
            continue
        for body in open_regions.values():
            body.append(line)
    if open_regions:
        names = ", ".join(sorted(open_regions))
        raise ValueError(f"{path}: snippet(s) never closed with [end:...]: {names}")
    return found


def quoted_snippets(page):
    """Every (line number, source path, snippet name, block lines) quoted in a page."""
    lines = page.read_text(encoding="utf-8").splitlines()
    i = 0
    while i < len(lines):
        reference = REFERENCE.match(lines[i])
        if not reference:
            i += 1
            continue
        number = i + 1
        if i + 1 >= len(lines) or not FENCE.match(lines[i + 1]):
            yield number, reference.group("path"), reference.group("name"), None
            i += 1
            continue
        j = i + 2
        while j < len(lines) and lines[j].strip() != "```":
            j += 1
        if j >= len(lines):
            yield number, reference.group("path"), reference.group("name"), None
            break
        yield number, reference.group("path"), reference.group("name"), lines[i + 2 : j]
        i = j + 1


def unmarked_cpp_blocks(page):
    """The line numbers of ```cpp (or ```c++) blocks not preceded by a snippet comment."""
    lines = page.read_text(encoding="utf-8").splitlines()
    inside = False
    for i, line in enumerate(lines):
        if not FENCE.match(line.lstrip()):
            continue
        if not inside:
            language = line.strip()[3:].strip().lower()
            if language in ("cpp", "c++") and (i == 0 or not REFERENCE.match(lines[i - 1])):
                yield i + 1
        inside = not inside


def main(argv):
    if len(argv) > 2:
        print(__doc__, file=sys.stderr)
        return 2
    root = pathlib.Path(argv[1] if len(argv) == 2 else pathlib.Path(__file__).resolve().parent.parent)
    docs = sorted((root / "docs").glob("*.md"))
    if not docs:
        print(f"check-doc-snippets: no pages under {root / 'docs'}", file=sys.stderr)
        return 2
    if (root / "README.md").is_file():
        docs.insert(0, root / "README.md")

    problems = []
    cache = {}
    checked = 0
    for page in docs:
        where_page = page.relative_to(root)
        for number in unmarked_cpp_blocks(page):
            problems.append(
                f"{where_page}:{number}: a ```cpp block that quotes no compiled example: precede it with "
                "<!-- snippet: examples/...cpp#name --> and mark that region in the example"
            )
        for number, source, name, block in quoted_snippets(page):
            where = f"{where_page}:{number}: snippet {source}#{name}"
            if block is None:
                problems.append(f"{where}: the comment must be followed by a fenced ```cpp block, closed with ```")
                continue
            path = root / source
            if path not in cache:
                try:
                    cache[path] = regions(path)
                except FileNotFoundError:
                    cache[path] = f"{source} does not exist"
                except ValueError as error:
                    cache[path] = str(error)
            marked = cache[path]
            if isinstance(marked, str):  # the file is missing or its markers are broken
                problems.append(f"{where}: {marked}")
                continue
            if name not in marked:
                problems.append(f"{where}: {source} has no region '// [snippet:{name}]' ... '// [end:{name}]'")
                continue
            checked += 1
            if block != marked[name]:
                diff = difflib.unified_diff(
                    marked[name], block, fromfile=f"{source}#{name}", tofile=str(where_page), lineterm=""
                )
                problems.append(f"{where}: the page differs from the code CI compiles:\n" + "\n".join(diff))

    for problem in problems:
        print(f"check-doc-snippets: {problem}", file=sys.stderr)
    print(f"check-doc-snippets: {checked} snippets in {len(docs)} pages checked, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

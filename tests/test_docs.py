"""The docs show code that runs.

- Every code block whose first line is ``# dags_examples/NAME.py`` is a ``python`` block whose
  lines are in that file, as consecutive whole lines; each page in ``QUOTED`` quotes at least the
  examples listed for it. The example DAGs are run by tests (tests/transfers/test_example_dags.py,
  tests/operators/test_example_lookup.py), so a block copied from one cannot go stale unnoticed.
- Every shell block that runs ``airflow connections test`` enables connection tests first
  (``AIRFLOW__CORE__TEST_CONNECTION=Enabled``, exported earlier in the same block or given on
  the command itself): Airflow refuses the command otherwise.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MARKDOWN = sorted([ROOT / "README.md", *(ROOT / "docs").glob("*.md")])
EXAMPLE = re.compile(r"# (dags_examples/[\w.]+\.py)")

#: The examples each page quotes (it may quote more).
QUOTED = {
    "operators.md": {
        "dags_examples/hsainfo_units_hourly.py",
        "dags_examples/hsainfo_unit_lookup.py",
        "dags_examples/hsainfo_mapped.py",
        "dags_examples/shapes_search_incremental.py",
        "dags_examples/shapes_odata_window.py",
        "dags_examples/shapes_odata_delta.py",
    },
    "rotation.md": {"dags_examples/regionhalland_certificate_check.py"},
    "windows.md": {"dags_examples/shapes_search_incremental.py"},
}

#: Fence info strings of shell blocks; a block without one is read as shell too.
SHELLS = {"", "bash", "sh", "shell", "zsh", "console", "shell-session"}
TEST_CONNECTION = "AIRFLOW__CORE__TEST_CONNECTION"


@dataclass(frozen=True)
class Block:
    doc: str
    line: int  # of the opening fence, 1-based
    info: str  # the fence's language ("" if none)
    code: str  # the lines between the fences, the fence's indentation removed

    @property
    def where(self) -> str:
        return f"{self.doc}:{self.line}"


FENCE = re.compile(r"^([ \t]*)(`{3,}|~{3,})[ \t]*([^`\n]*?)[ \t]*$")


def code_blocks(doc: Path) -> list[Block]:
    """The fenced code blocks of a Markdown file, indented ones (in lists) included."""
    lines = doc.read_text().splitlines()
    found, i = [], 0
    while i < len(lines):
        opening = FENCE.match(lines[i])
        if not opening:
            i += 1
            continue
        indent, fence, info = opening.groups()
        closing = re.compile(rf"[ \t]*{re.escape(fence[0])}{{{len(fence)},}}[ \t]*")
        j = i + 1
        while j < len(lines) and not closing.fullmatch(lines[j]):
            j += 1
        assert j < len(lines), f"{doc.name}:{i + 1}: a code block is never closed"
        body = [
            line[len(indent) :] if line.startswith(indent) else line.lstrip() for line in lines[i + 1 : j]
        ]
        language = info.split()[0].lower() if info else ""
        found.append(Block(doc.name, i + 1, language, "\n".join(body) + "\n"))
        i = j + 1
    return found


def test_code_blocks_are_read_as_markdown_has_them(tmp_path: Path):
    page = tmp_path / "page.md"
    page.write_text(
        "text\n\n```bash\necho a\n```\n\n- a list item:\n\n  ```python\n  # dags_examples/x.py\n"
        "      indented()\n  ```\n\n````\n```bash\nnot a block of its own\n```\n````\n~~~sh\necho b\n~~~\n"
    )
    assert code_blocks(page) == [
        Block("page.md", 3, "bash", "echo a\n"),
        Block("page.md", 9, "python", "# dags_examples/x.py\n    indented()\n"),
        Block("page.md", 14, "", "```bash\nnot a block of its own\n```\n"),
        Block("page.md", 19, "sh", "echo b\n"),
    ]


# -- quoted examples -------------------------------------------------------------------------


def quotes() -> list[tuple[Block, str, str]]:
    """``(block, first line, the rest)`` of every block whose first line names an example file."""
    found = []
    for doc in MARKDOWN:
        for block in code_blocks(doc):
            first, _, rest = block.code.partition("\n")
            if first.lstrip().startswith("#") and "dags_examples/" in first:
                found.append((block, first.strip(), rest))
    return found


def quoted_file(first_line: str) -> str | None:
    named = EXAMPLE.fullmatch(first_line)
    return named.group(1) if named else None


def test_the_docs_quote_the_examples():
    union = {quoted_file(first) for _, first, _ in quotes()}
    assert union >= set().union(*QUOTED.values())


@pytest.mark.parametrize("doc", sorted(QUOTED))
def test_each_page_quotes_its_examples(doc: str):
    quoted = {quoted_file(first) for block, first, _ in quotes() if block.doc == doc}
    missing = QUOTED[doc] - quoted
    assert not missing, f"{doc} no longer quotes {sorted(missing)} (a block starting `# <file>`)"


@pytest.mark.parametrize(
    ("block", "first", "code"), quotes(), ids=lambda v: v.where if isinstance(v, Block) else ""
)
def test_a_quoted_block_is_in_its_example(block: Block, first: str, code: str):
    source = quoted_file(first)
    assert source, f"{block.where}: the first line must be exactly `# dags_examples/NAME.py`, got {first!r}"
    path = ROOT / source
    assert path.is_file(), f"{block.where}: {source} does not exist"
    assert block.info == "python", f"{block.where}: a quote of {source} must be a python block"
    quoted = code.strip("\n")
    assert quoted.strip(), f"{block.where}: the block quotes nothing of {source}"
    text = path.read_text()
    assert f"\n{quoted}\n" in f"\n{text}\n", f"{block.where}: the block from {source} differs from the file"


# -- connection tests in shell blocks --------------------------------------------------------


def commands(code: str) -> list[list[str]]:
    """The simple commands of a shell block, each as its words (quotes removed), in order.

    Enough of the shell language for the docs: quotes (a newline inside one does not end the
    command), backslash escapes and line continuations, comments, and ``;``, ``&``, ``&&``,
    ``|``, ``||``, ``(``, ``)`` and newlines between commands. A ``$(...)`` stays in its word as
    written.
    """
    found: list[list[str]] = []
    words: list[str] = []
    word: str | None = None
    quote = ""
    i = 0
    while i < len(code):
        char = code[i]
        if code.startswith("$(", i) and quote != "'":
            end = substitution_end(code, i)
            word = (word or "") + code[i:end]
            i = end
            continue
        if quote == "'":
            if char == "'":
                quote = ""
            else:
                word = (word or "") + char
        elif char == "\\" and i + 1 < len(code):
            i += 1
            if code[i] != "\n":
                word = (word or "") + code[i]
        elif quote == '"':
            if char == '"':
                quote = ""
            else:
                word = (word or "") + char
        elif char in "'\"":
            quote = char
            word = word or ""
        elif char == "#" and word is None:
            while i < len(code) and code[i] != "\n":
                i += 1
            continue
        elif char in " \t":
            if word is not None:
                words.append(word)
                word = None
        elif char in "\n;&|()":
            if word is not None:
                words.append(word)
                word = None
            if words:
                found.append(words)
                words = []
        else:
            word = (word or "") + char
        i += 1
    assert not quote, f"an unclosed quote in\n{code}"
    if word is not None:
        words.append(word)
    if words:
        found.append(words)
    return found


def substitution_end(code: str, start: int) -> int:
    """The index after the ``)`` that closes the ``$(`` at ``start`` (quotes and nesting in it)."""
    depth, quote, i = 0, "", start + 1
    while i < len(code):
        char = code[i]
        if quote:
            if char == quote:
                quote = ""
            elif char == "\\" and quote == '"':
                i += 1
        elif char in "'\"":
            quote = char
        elif char == "\\":
            i += 1
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    raise AssertionError(f"an unclosed $( in\n{code}")


def prompt_lines(code: str) -> str:
    """The commands of a console transcript: lines after a ``$ `` prompt."""
    return "\n".join(line[2:] for line in code.splitlines() if line.startswith("$ ")) + "\n"


def connection_tests_unenabled(code: str) -> list[str]:
    """Each ``airflow connections test`` in ``code`` run without connection tests enabled."""
    enabled = False
    wrong = []
    for words in commands(code):
        if words[0] == "export":
            for word in words[1:]:
                name, sep, value = word.partition("=")
                if name == TEST_CONNECTION:
                    enabled = bool(sep) and value == "Enabled"
            continue
        if words[0] == "unset" and TEST_CONNECTION in words[1:]:
            enabled = False
            continue
        prefix = []
        while words and re.fullmatch(r"[A-Za-z_]\w*=.*", words[0], re.DOTALL):
            prefix.append(words.pop(0))
        if not words:  # assignments alone: a shell variable, not in the environment of commands
            continue
        if words[:3] == ["airflow", "connections", "test"]:
            here = {name: value for name, _, value in (w.partition("=") for w in prefix)}
            if not (here.get(TEST_CONNECTION) == "Enabled" or (TEST_CONNECTION not in here and enabled)):
                wrong.append(" ".join(words))
    return wrong


def shell_blocks() -> list[Block]:
    return [block for doc in MARKDOWN for block in code_blocks(doc) if block.info in SHELLS]


def test_the_shell_reading_follows_the_shell():
    assert commands('export A=1   # a comment; airflow x\nB=2 airflow connections test "c d" && e\n') == [
        ["export", "A=1"],
        ["B=2", "airflow", "connections", "test", "c d"],
        ["e"],
    ]
    block = """export X='{"a":\n 1}'\nx="$(python3 -c 'print(1)')" \\\n  y $(f (g) ')' "$(h)") z\n"""
    assert commands(block) == [
        ["export", 'X={"a":\n 1}'],
        ["x=$(python3 -c 'print(1)')", "y", """$(f (g) ')' "$(h)")""", "z"],
    ]
    assert connection_tests_unenabled(
        f"export {TEST_CONNECTION}=Enabled\nairflow connections test a\n"
        f"unset {TEST_CONNECTION}\nairflow connections test b\n"
        f"{TEST_CONNECTION}=Enabled airflow connections test c\n"
        f"{TEST_CONNECTION}=Enabled\nairflow connections test d\n"
        f"# export {TEST_CONNECTION}=Enabled\nairflow connections test e\n"
        f"export {TEST_CONNECTION}=Disabled\nairflow connections test f\n"
        f"export {TEST_CONNECTION}=Enabled\n{TEST_CONNECTION}=Hidden airflow connections test g\n"
    ) == [f"airflow connections test {name}" for name in "bdefg"]
    assert connection_tests_unenabled(f"airflow connections test a\nexport {TEST_CONNECTION}=Enabled\n") == [
        "airflow connections test a"
    ]


@pytest.mark.parametrize("block", shell_blocks(), ids=lambda block: block.where)
def test_a_connection_test_in_the_docs_is_enabled_first(block: Block):
    code = prompt_lines(block.code) if block.info in ("console", "shell-session") else block.code
    wrong = connection_tests_unenabled(code)
    assert not wrong, (
        f"{block.where}: {wrong} runs before `export {TEST_CONNECTION}=Enabled` in the same block; "
        "Airflow refuses it otherwise"
    )
    # Every mention outside comments is a command the check above has read (none hides in a
    # $(...), behind sudo, in a string).
    mentions = sum(" ".join(words).count("airflow connections test") for words in commands(code))
    assert mentions == sum(map(runs_connection_test, commands(code))), (
        f"{block.where}: an `airflow connections test` this check cannot place: "
        "write it as a command of its own"
    )


def runs_connection_test(words: list[str]) -> bool:
    rest = list(words)
    while rest and re.fullmatch(r"[A-Za-z_]\w*=.*", rest[0], re.DOTALL):
        rest.pop(0)
    return rest[:3] == ["airflow", "connections", "test"]


def test_the_docs_run_connection_tests():
    """The check above has something to check: the pages that show the command."""
    pages = {block.doc for block in shell_blocks() if any(map(runs_connection_test, commands(block.code)))}
    assert pages >= {
        "README.md",
        "connection.md",
        "getting-access.md",
        "local-scheduler.md",
        "troubleshooting.md",
    }


def test_the_images_the_docs_show_exist():
    for doc in MARKDOWN:
        for image in re.findall(r"!\[[^\]]*\]\(([^)]+)\)", doc.read_text()):
            assert (doc.parent / image).is_file(), f"{doc.name} shows a missing image {image}"

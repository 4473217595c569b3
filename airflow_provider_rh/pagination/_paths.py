"""Finding a value in a parsed JSON page by a dotted path or a list of keys.

``"meta.next"`` walks ``page["meta"]["next"]``; a list (``["@odata.nextLink"]``) names the keys
exactly. Keys may contain dots themselves (OData's ``@odata.nextLink``), so at each level the
longest run of segments that is a key wins: ``"@odata.nextLink"`` finds that key whole, and
``"meta.@odata.count"`` finds ``page["meta"]["@odata.count"]``. Digits index into lists.

The walk is bounded whatever the page holds: a path has at most :data:`MAX_PATH_SEGMENTS`
segments and :data:`MAX_PATH_CHARS` characters, and a (node, segment) pair that led nowhere is
never tried again, so a page crafted with keys ``"a"``, ``"a.a"``, ``"a.a.a"`` ... at every
level costs polynomial, not exponential, work.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypeAlias

from airflow_provider_rh.exceptions import ConfigurationError

#: A dotted path (``"data.items"``) or the keys one by one (``["@odata.nextLink"]``).
KeyPath: TypeAlias = str | Sequence[str]

#: Most segments in a path (``"a.b.c"`` has three).
MAX_PATH_SEGMENTS = 64
#: Longest path, all segments together.
MAX_PATH_CHARS = 1024


def check_key_path(path: KeyPath | None, *, name: str) -> None:
    """Refuse a path that is not a string or a list of strings, naming the argument."""
    if path is None:
        return
    if isinstance(path, str) or (isinstance(path, Sequence) and all(isinstance(key, str) for key in path)):
        keys = path.split(".") if isinstance(path, str) else list(path)
        chars = sum(len(key) for key in keys)
        if len(keys) > MAX_PATH_SEGMENTS or chars > MAX_PATH_CHARS:
            raise ConfigurationError(
                f"{name} has {len(keys)} segments and {chars:,} characters; at most "
                f"{MAX_PATH_SEGMENTS} segments and {MAX_PATH_CHARS:,} characters are supported.",
                field=name,
            )
        return
    raise ConfigurationError(
        f"{name} must be a dotted path like 'data.items' or a list of keys like ['@odata.nextLink'], "
        f"got {path!r}.",
        field=name,
    )


def describe(path: KeyPath | None) -> str:
    """The path as a user wrote it, for messages."""
    if path is None or path == "":
        return "the page itself"
    return repr(path) if isinstance(path, str) else repr(list(path))


#: Keys of a page named in a message; more are counted, not listed.
SHOWN_KEYS = 20


def shown_keys(document: Any) -> str:
    """What a page holds, for a message: its first keys (cut, counted) or its type."""
    if not isinstance(document, Mapping):
        return type(document).__name__
    keys = [str(key)[:40] for key, _ in zip(document, range(SHOWN_KEYS), strict=False)]
    more = len(document) - len(keys)
    return repr(sorted(keys)) + (f" and {more:,} more" if more > 0 else "")


def lookup(document: Any, path: KeyPath | None) -> tuple[bool, Any]:
    """``(True, value)`` if ``path`` leads somewhere in ``document``, else ``(False, None)``.

    ``None`` and ``""`` mean the document itself (a page that is a bare list of records).
    """
    if path is None or path == "":
        return True, document
    if isinstance(path, str):
        return _walk_dotted(document, path.split("."))
    return _walk_keys(document, list(path))


def find(document: Any, path: KeyPath | None, default: Any = None) -> Any:
    """The value at ``path``, or ``default`` when the path leads nowhere."""
    found, value = lookup(document, path)
    return value if found else default


def _walk_keys(node: Any, keys: list[str]) -> tuple[bool, Any]:
    for key in keys:
        found, node = _step(node, key)
        if not found:
            return False, None
    return True, node


def _walk_dotted(document: Any, parts: list[str]) -> tuple[bool, Any]:
    failed: set[tuple[int, int]] = set()  # (id(node), first segment) that led nowhere

    def walk(node: Any, start: int) -> tuple[bool, Any]:
        if start == len(parts):
            return True, node
        state = (id(node), start)
        if state in failed:
            return False, None
        if isinstance(node, Mapping):
            # Longest key first, so a key with dots in it beats a nested reading of the same text.
            for end in range(len(parts), start, -1):
                key = ".".join(parts[start:end])
                if key in node:
                    found, value = walk(node[key], end)
                    if found:
                        return True, value
        else:
            found, child = _step(node, parts[start])
            if found:
                found, value = walk(child, start + 1)
                if found:
                    return True, value
        failed.add(state)
        return False, None

    return walk(document, 0)


def _step(node: Any, key: str) -> tuple[bool, Any]:
    if isinstance(node, Mapping):
        return (True, node[key]) if key in node else (False, None)
    if isinstance(node, list) and _is_index(key):
        index = int(key)
        return (True, node[index]) if -len(node) <= index < len(node) else (False, None)
    return False, None


def _is_index(key: str) -> bool:
    return key.isdigit() or (key.startswith("-") and key[1:].isdigit())

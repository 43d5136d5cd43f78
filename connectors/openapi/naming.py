"""Names the tools and their arguments carry, and the text that describes them.

LLM providers reject tool names outside `^[A-Za-z0-9_-]{1,64}$` and property names outside
`^[a-zA-Z0-9_.-]{1,64}$`; the hub prefixes tool names with the API name, so ours stop at 48.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence

TOOL_NAME_MAX = 48
ARG_NAME_MAX = 64
DESCRIPTION_MAX = 1500
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")

_NOT_TOOL_CHAR = re.compile(r"[^A-Za-z0-9_-]+")
_NOT_ARG_CHAR = re.compile(r"[^A-Za-z0-9_.-]+")


def short_hash(text: str, length: int = 6) -> str:
    return hashlib.sha1(text.encode()).hexdigest()[:length]


def fit(name: str, limit: int, suffix: str = "") -> str:
    """`name + suffix` within `limit` chars; a cut name gets a hash of the full name, so it stays unique."""
    if len(name) + len(suffix) <= limit:
        return name + suffix
    tail = f"_{short_hash(name)}{suffix}"
    return name[: limit - len(tail)] + tail


def sanitize_arg(name: str) -> str:
    """A wire name as a property name: `filter[status]` -> `filter_status`."""
    cleaned = _NOT_ARG_CHAR.sub("_", name).strip("_") or "arg"
    return fit(cleaned, ARG_NAME_MAX)


def unique_arg(name: str, taken: set[str], alternatives: Sequence[str] = ()) -> str:
    """The first of `name`, then `alternatives`, then `name_2`, `name_3`, ... that is not taken."""
    for candidate in (name, *alternatives):
        if candidate not in taken:
            return candidate
    counter = 2
    while fit(name, ARG_NAME_MAX, f"_{counter}") in taken:
        counter += 1
    return fit(name, ARG_NAME_MAX, f"_{counter}")


def base_tool_name(operation_id: object, method: str, path: str) -> str:
    """From operationId (case kept), else synthesised from method and path: get_users_userId_repos."""
    if isinstance(operation_id, str):
        cleaned = _NOT_TOOL_CHAR.sub("_", operation_id.strip()).strip("_")
        if cleaned.strip("-"):
            return fit(cleaned, TOOL_NAME_MAX)
    segments = [_NOT_TOOL_CHAR.sub("_", s).strip("_") for s in path.split("/")]
    words = [method.lower(), *(s for s in segments if s)] if path.strip("/") else [method.lower(), "root"]
    return fit("_".join(words), TOOL_NAME_MAX)


def assign_tool_names(bases: Sequence[str], order: Sequence[tuple[str, str]]) -> list[str]:
    """Unique names: among equal bases the first by (path, method) keeps it, the rest get _2, _3, ..."""
    taken = set(bases)
    names = list(bases)
    for indexes in _groups(bases).values():
        indexes.sort(key=lambda i: (order[i][0], _method_rank(order[i][1])))
        for i in indexes[1:]:
            names[i] = _next_free(bases[i], taken)
            taken.add(names[i])
    return names


def _groups(bases: Iterable[str]) -> dict[str, list[int]]:
    groups: dict[str, list[int]] = {}
    for index, base in enumerate(bases):
        groups.setdefault(base, []).append(index)
    return {base: indexes for base, indexes in sorted(groups.items()) if len(indexes) > 1}


def _next_free(base: str, taken: set[str]) -> str:
    counter = 2
    while fit(base, TOOL_NAME_MAX, f"_{counter}") in taken:
        counter += 1
    return fit(base, TOOL_NAME_MAX, f"_{counter}")


def _method_rank(method: str) -> int:
    lowered = method.lower()
    return METHODS.index(lowered) if lowered in METHODS else len(METHODS)


def def_name(uri: str, pointer: str) -> str:
    """A readable `$defs` name for the schema at `pointer` in document `uri` (not yet unique)."""
    tokens = [t.replace("~1", "/").replace("~0", "~") for t in pointer.split("/")[1:]]
    tokens = _strip_container(tokens)
    if not tokens:  # a whole file is the schema: name it after the file
        tokens = [uri.rstrip("/").rsplit("/", 1)[-1].split(".", 1)[0]]
    name = _NOT_ARG_CHAR.sub("_", "_".join(tokens)).strip("_") or "schema"
    return fit(name, ARG_NAME_MAX)


def _strip_container(tokens: list[str]) -> list[str]:
    """Drop the component-container prefix: /components/schemas/Pet and /definitions/Pet are `Pet`."""
    for prefix in (["components", "schemas"], ["definitions"], ["$defs"]):
        if tokens[: len(prefix)] == prefix and len(tokens) > len(prefix):
            return tokens[len(prefix) :]
    return tokens


def unique_name(name: str, taken: set[str]) -> str:
    """`name`, or `name_2`, `name_3`, ... whichever is free; the result is added to `taken`."""
    candidate, counter = name, 2
    while candidate in taken:
        candidate, counter = f"{name}_{counter}", counter + 1
    taken.add(candidate)
    return candidate


def clip(text: str, limit: int = DESCRIPTION_MAX) -> str:
    """`text` cut on a word boundary to at most `limit` chars, marked with an ellipsis."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = max(cut.rfind(" ", limit // 2), cut.rfind("\n", limit // 2))
    return (cut[:space] if space > 0 else cut).rstrip() + "…"

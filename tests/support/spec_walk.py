"""An independent, minimal reader of OpenAPI specs for tests: required parameters per operation.

Deliberately separate from the converter so the tests check it against a second reading.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import yaml

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
IGNORED_HEADERS = {"accept", "content-type", "authorization"}


@cache
def _load(path: Path) -> Any:
    text = path.read_text(encoding="utf-8")
    return json.loads(text) if path.suffix == ".json" else yaml.load(text, Loader=yaml.CSafeLoader)


def _deref(node: Any, base: Path) -> tuple[Any, Path]:
    seen = 0
    while isinstance(node, dict) and "$ref" in node and seen < 50:
        ref = node["$ref"]
        file_part, _, pointer = ref.partition("#")
        target = (base.parent / file_part).resolve() if file_part else base
        node = _load(target)
        for token in [t for t in pointer.split("/") if t]:
            token = unquote(token).replace("~1", "/").replace("~0", "~")
            node = node[int(token)] if isinstance(node, list) else node[token]
        base, seen = target, seen + 1
    return node, base


def required_params(spec: Path) -> dict[str, set[tuple[str, str]]]:
    """Operation key ("GET /path") -> {(location, wire name)} of its required parameters."""
    spec = spec.resolve()
    doc = _load(spec)
    out: dict[str, set[tuple[str, str]]] = {}
    for path, item in (doc.get("paths") or {}).items():
        item, item_base = _deref(item, spec)
        shared = item.get("parameters") or []
        for method in METHODS:
            if method not in item:
                continue
            op, op_base = _deref(item[method], item_base)
            params: dict[tuple[str, str], bool] = {}
            for raw, base in [(p, item_base) for p in shared] + [
                (p, op_base) for p in op.get("parameters") or []
            ]:
                param, _ = _deref(raw, base)
                location = param.get("in")
                if location not in ("path", "query", "header", "cookie"):
                    continue
                if location == "header" and param["name"].lower() in IGNORED_HEADERS:
                    continue
                params[(location, param["name"])] = location == "path" or bool(param.get("required"))
            out[f"{method.upper()} {path}"] = {k for k, required in params.items() if required}
    return out

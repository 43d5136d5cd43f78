"""Catalog records as JSON-ready data (for the admin API and the CLI), secrets left out."""

from __future__ import annotations

import dataclasses
from typing import Any


def to_json(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {k: to_json(v) for k, v in dataclasses.asdict(value).items() if k != "credentials"}
    if isinstance(value, list | tuple):
        return [to_json(v) for v in value]
    return value

"""Media type questions shared by the converter and the executor."""

from __future__ import annotations

_TEXT_TYPES = frozenset(
    {
        "application/xml",
        "application/javascript",
        "application/ecmascript",
        "application/x-www-form-urlencoded",
        "application/yaml",
        "application/x-yaml",
        "application/graphql",
        "application/sql",
        "application/x-ndjson",
        "application/csv",
    }
)


def base_media_type(media_type: str) -> str:
    """`Application/JSON; charset=utf-8` -> `application/json`."""
    return media_type.split(";", 1)[0].strip().lower()


def treated_as_json(media: str) -> bool:
    """Is a base media type one the executor writes and reads as JSON?

    `application/*` counts (JSON is as good a body as any); `text/json` does not: it is text.
    The converter's `spec_reader.is_json` answers a different question (does the schema describe JSON)."""
    return media == "application/json" or media.endswith("+json") or media == "application/*"


def is_text(media: str) -> bool:
    """Is a base media type text (sent as the argument's string, shown as text when answered)?"""
    return media.startswith("text/") or media in _TEXT_TYPES or media.endswith(("+xml", "+yaml"))

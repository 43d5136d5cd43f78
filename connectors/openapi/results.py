"""An upstream HTTP answer as an MCP `CallToolResult` (a plain dict)."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

import orjson

from connectors.openapi.media_types import is_text, treated_as_json

ERROR_SNIPPET_CHARS = 500
_MISSING: Any = object()


@dataclass(slots=True)
class Answer:
    status: int
    reason: str
    media_type: str | None  # lower-case main type, None when the upstream sent no Content-Type
    charset: str | None
    body: bytes
    truncated: bool


def error_result(message: str) -> dict[str, Any]:
    return {"content": [{"type": "text", "text": message}], "isError": True}


def to_result(answer: Answer, *, structured: bool, limit: int) -> dict[str, Any]:
    """Map an upstream answer onto a CallToolResult dict."""
    ok = 200 <= answer.status < 300
    kind = _content_kind(answer)
    parsed: Any = _MISSING
    if kind == "json" and not answer.truncated:
        try:
            parsed = orjson.loads(_json_input(answer))
        except (orjson.JSONDecodeError, UnicodeDecodeError, LookupError):
            kind = "text"
    if not ok:
        return error_result(_status_line(answer) + _error_detail(answer, kind, parsed))
    if kind == "image" and not answer.truncated and answer.body:
        data = base64.b64encode(answer.body).decode("ascii")
        return {"content": [{"type": "image", "data": data, "mimeType": answer.media_type}], "isError": False}
    result: dict[str, Any] = {
        "content": [{"type": "text", "text": _success_text(answer, kind, parsed, limit)}]
    }
    if structured and isinstance(parsed, dict):
        result["structuredContent"] = parsed
    result["isError"] = False
    return result


def _success_text(answer: Answer, kind: str, parsed: Any, limit: int) -> str:
    if not answer.body:
        return _status_line(answer) + " (empty body)"
    if parsed is not _MISSING:
        return orjson.dumps(parsed).decode()
    if kind in ("json", "text"):
        text = _decode(answer)
    else:
        size = f"more than {limit}" if answer.truncated else str(len(answer.body))
        return f"[binary response: {answer.media_type or 'unknown type'}, {size} bytes, not shown]"
    if answer.truncated:
        text += f"\n[truncated: response exceeded {limit} bytes]"
    return text


def _error_detail(answer: Answer, kind: str, parsed: Any) -> str:
    if not answer.body:
        return ""
    if parsed is not _MISSING:
        text = orjson.dumps(parsed).decode()
    elif kind in ("json", "text"):
        text = _decode(answer)
    else:
        return f": [{answer.media_type or 'binary'} body, {len(answer.body)} bytes]"
    text = text.strip()
    if len(text) > ERROR_SNIPPET_CHARS:
        text = text[:ERROR_SNIPPET_CHARS] + "…"
    return f": {text}" if text else ""


def _json_input(answer: Answer) -> bytes | str:
    charset = answer.charset
    if charset is None or charset.lower() in ("utf-8", "utf8"):
        return answer.body  # orjson reads UTF-8 bytes directly
    return answer.body.decode(charset)


def _status_line(answer: Answer) -> str:
    reason = answer.reason
    if not reason:
        try:
            reason = HTTPStatus(answer.status).phrase
        except ValueError:
            reason = ""
    return f"HTTP {answer.status} {reason}".rstrip()


def _decode(answer: Answer) -> str:
    try:
        return answer.body.decode(answer.charset or "utf-8", "replace")
    except LookupError:  # an unknown charset name
        return answer.body.decode("utf-8", "replace")


def _content_kind(answer: Answer) -> str:
    """json, text, image or binary: how the answer's body is shown."""
    media = answer.media_type
    if media is None:
        # No Content-Type: text if it decodes as UTF-8 (a cut at the truncation point is fine).
        try:
            answer.body.decode("utf-8")
        except UnicodeDecodeError as exc:
            cut_char = answer.truncated and exc.start >= len(answer.body) - 3
            return "text" if cut_char else "binary"
        return "text"
    if treated_as_json(media):
        return "json"
    if is_text(media):
        return "text"
    if media.startswith("image/"):
        return "image"
    return "binary"

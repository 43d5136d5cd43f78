"""OpenAPI 3 parameter serialisation (the `style`/`explode` tables of OAS 3.0.4 / 3.1.1).

Those tables correct 3.0.3's non-exploded `label` cells to RFC 6570 (`.blue,black,brown`).
Values are dispatched on their runtime JSON type (dict → object, list → array, anything else →
primitive), because a schema's `kind` can be a union. Structural delimiters (`,` `.` `;` `=` `|`
`[` `]`) are written literally, as in the 3.0.3 examples and as most clients send them (servers
decode `%7C`/`%5B` and the literal forms alike); every name and value component is
percent-encoded first, so a delimiter inside a value cannot be confused with structure.
A path value that would form a `.` or `..` segment is sent as `%2E`/`%2E%2E`, so it cannot be
normalised into a different upstream path.

`None` (JSON null) and empty arrays/objects mean "not sent" in query, header, cookie and form
positions (as RFC 6570 treats undefined values); an empty string is sent as an empty value.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import quote, quote_plus

import orjson

from connectors.openapi.model import FieldEncoding, ParamSpec

Encoder = Callable[[str], str]


class ArgumentError(ValueError):
    """An argument cannot be put on the wire (e.g. a newline in a header value)."""


# RFC 3986 reserved characters, minus '#', which would end the request target.
_RESERVED = ":/?[]@!$&'()*+,;="
# RFC 6265 cookie-octets (printable ASCII without space, '"', ',', ';', '\\'), minus '%' so values
# stay reversible.
_COOKIE_SAFE = "!#$&'()*+-./:<=>?@[]^_`{|}~"


def scalar_text(value: Any) -> str:
    """A primitive as text: booleans as `true`/`false`, integral numbers without `.0`, null as empty."""
    if isinstance(value, str):
        return value
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return ""
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 2**53 else repr(value)
    # A nested array/object inside an array or object value: JSON is the only faithful text.
    return json_text(value)


def json_bytes(value: Any) -> bytes:
    """The value as compact JSON; ArgumentError for what JSON cannot carry (e.g. ints beyond 64 bits)."""
    try:
        return orjson.dumps(value)
    except orjson.JSONEncodeError as exc:
        raise ArgumentError(f"value cannot be sent as JSON: {exc}") from exc


def json_text(value: Any) -> str:
    """The value as compact JSON text (for `content`-described parameters)."""
    return json_bytes(value).decode()


# Each encoder first checks for plain ASCII letters/digits (most ids and numbers): two C-level
# string checks are far cheaper than `quote`, and this runs for every argument of every call.


def strict_encode(text: str) -> str:
    if text.isascii() and text.isalnum():
        return text
    return quote(text, safe="")


def reserved_encode(text: str) -> str:
    if text.isascii() and text.isalnum():
        return text
    return quote(text, safe=_RESERVED)


def form_encode(text: str) -> str:
    if text.isascii() and text.isalnum():
        return text
    return quote_plus(text, safe="")


def cookie_encode(text: str) -> str:
    if text.isascii() and text.isalnum():
        return text
    return quote(text, safe=_COOKIE_SAFE)


# ---------------------------------------------------------------------------------------------
# path: simple, label, matrix


def serialize_path(spec: ParamSpec, value: Any) -> str:
    """The text that replaces `{name}` in the path template, percent-encoded."""
    enc = reserved_encode if spec.allow_reserved else strict_encode
    if spec.content_type is not None:
        value = json_text(value)
    style = spec.style
    if style == "label":
        return _label(value, spec.explode, enc)
    if style == "matrix":
        return _matrix(enc(spec.name), value, spec.explode, enc)
    return _simple(value, spec.explode, enc)


def _simple(value: Any, explode: bool, enc: Encoder) -> str:
    if isinstance(value, dict):
        return ",".join(_object_items(value, explode, enc))
    if isinstance(value, list | tuple):
        return ",".join(enc(scalar_text(v)) for v in value)
    return enc(scalar_text(value))


def _label(value: Any, explode: bool, enc: Encoder) -> str:
    sep = "." if explode else ","
    if isinstance(value, dict):
        return "." + sep.join(_object_items(value, explode, enc))
    if isinstance(value, list | tuple):
        return "." + sep.join(enc(scalar_text(v)) for v in value)
    return "." + enc(scalar_text(value))


def _matrix(name: str, value: Any, explode: bool, enc: Encoder) -> str:
    if isinstance(value, dict):
        if explode:
            return "".join(";" + item for item in _object_items(value, True, enc)) or f";{name}"
        return f";{name}=" + ",".join(_object_items(value, False, enc)) if value else f";{name}"
    if isinstance(value, list | tuple):
        if explode:
            return "".join(f";{name}={enc(scalar_text(v))}" for v in value) or f";{name}"
        return f";{name}=" + ",".join(enc(scalar_text(v)) for v in value) if value else f";{name}"
    text = enc(scalar_text(value))
    return f";{name}={text}" if text else f";{name}"


def _object_items(value: dict[str, Any], explode: bool, enc: Encoder) -> list[str]:
    """`k=v` items (explode) or the flat `k,v` list (no explode) of an object."""
    if explode:
        return [f"{enc(str(k))}={enc(scalar_text(v))}" for k, v in value.items()]
    return [f"{enc(str(k))},{enc(scalar_text(v))}" for k, v in value.items()]


def protect_dot_segments(path: str) -> str:
    """Encode `.`/`..` segments so a value cannot walk up the upstream's path."""
    if "/." not in path:
        return path
    segments = path.split("/")
    return "/".join("%2E" * len(s) if s in (".", "..") else s for s in segments)


# ---------------------------------------------------------------------------------------------
# query and application/x-www-form-urlencoded: form, spaceDelimited, pipeDelimited, deepObject


def serialize_query(spec: ParamSpec, value: Any) -> list[str]:
    """Encoded `name=value` items for the query string (joined with `&` by the caller)."""
    enc = reserved_encode if spec.allow_reserved else strict_encode
    if spec.content_type is not None:
        return [f"{strict_encode(spec.name)}={enc(json_text(value))}"]
    return styled_pairs(strict_encode(spec.name), value, spec.style, spec.explode, enc)


def serialize_form_field(name: str, value: Any, encoding: FieldEncoding | None) -> list[str]:
    """Encoded `name=value` items for one property of a form-urlencoded body."""
    if encoding is None:
        return styled_pairs(form_encode(name), value, "form", True, form_encode)
    if encoding.content_type is not None and _is_json_media(encoding.content_type):
        return [f"{form_encode(name)}={form_encode(json_text(value))}"]
    return styled_pairs(form_encode(name), value, encoding.style, encoding.explode, form_encode)


def styled_pairs(name: str, value: Any, style: str, explode: bool, enc: Encoder) -> list[str]:
    """`name` is already encoded; returns encoded `k=v` items."""
    if value is None:
        return []
    if isinstance(value, dict):
        return _object_pairs(name, value, style, explode, enc)
    if isinstance(value, list | tuple):
        if not value:
            return []
        if explode:
            return [f"{name}={enc(scalar_text(v))}" for v in value]
        return [f"{name}=" + _delimiter(style).join(enc(scalar_text(v)) for v in value)]
    return [f"{name}={enc(scalar_text(value))}"]


def _object_pairs(name: str, value: dict[str, Any], style: str, explode: bool, enc: Encoder) -> list[str]:
    if not value:
        return []
    if style == "deepObject":
        return _deep_pairs(name, value, enc)
    if explode:
        return [f"{enc(str(k))}={enc(scalar_text(v))}" for k, v in value.items() if v is not None]
    flat = [part for k, v in value.items() for part in (enc(str(k)), enc(scalar_text(v)))]
    return [f"{name}=" + _delimiter(style).join(flat)]


def _deep_pairs(prefix: str, value: dict[str, Any], enc: Encoder) -> list[str]:
    """deepObject: `color[R]=100`; nested objects nest brackets, arrays repeat the key."""
    items: list[str] = []
    for k, v in value.items():
        key = f"{prefix}[{enc(str(k))}]"
        if isinstance(v, dict):
            items.extend(_deep_pairs(key, v, enc))
        elif isinstance(v, list | tuple):
            items.extend(f"{key}={enc(scalar_text(x))}" for x in v)
        elif v is not None:
            items.append(f"{key}={enc(scalar_text(v))}")
    return items


def _delimiter(style: str) -> str:
    if style == "spaceDelimited":
        return "%20"
    if style == "pipeDelimited":
        return "|"
    return ","


def delimited_text(value: Any, style: str) -> str:
    """A non-exploded array/object as one unencoded text (multipart parts use this)."""
    sep = {"spaceDelimited": " ", "pipeDelimited": "|"}.get(style, ",")
    if isinstance(value, dict):
        return sep.join(part for k, v in value.items() for part in (str(k), scalar_text(v)))
    if isinstance(value, list | tuple):
        return sep.join(scalar_text(v) for v in value)
    return scalar_text(value)


# ---------------------------------------------------------------------------------------------
# header (simple) and cookie (form)


def serialize_header(spec: ParamSpec, value: Any) -> str | None:
    """The header value (style simple; headers are not percent-encoded), or None to omit it."""
    if value is None or (isinstance(value, list | tuple | dict) and not value):
        return None
    text = json_text(value) if spec.content_type is not None else _simple(value, spec.explode, _identity)
    if not text.isprintable():
        raise ArgumentError(f"header parameter {spec.name!r} contains control characters")
    return text


def serialize_cookie(spec: ParamSpec, value: Any) -> list[str]:
    """`name=value` pairs for the Cookie header (joined with `; ` by the caller).

    Exploded arrays/objects become several cookies (`id=3; id=4`), since `&` means nothing in
    a Cookie header.
    """
    name = spec.name
    if value is None or (isinstance(value, list | tuple | dict) and not value):
        return []
    if spec.content_type is not None:
        return [f"{name}={cookie_encode(json_text(value))}"]
    if isinstance(value, dict):
        if spec.explode:
            return [f"{cookie_encode(str(k))}={cookie_encode(scalar_text(v))}" for k, v in value.items()]
        return [f"{name}=" + ",".join(_object_items(value, False, cookie_encode))]
    if isinstance(value, list | tuple):
        if spec.explode:
            return [f"{name}={cookie_encode(scalar_text(v))}" for v in value]
        return [f"{name}=" + ",".join(cookie_encode(scalar_text(v)) for v in value)]
    return [f"{name}={cookie_encode(scalar_text(value))}"]


def _identity(text: str) -> str:
    return text


def _is_json_media(media_type: str) -> bool:
    main = media_type.split(";", 1)[0].strip().lower()
    return main == "application/json" or main.endswith("+json")

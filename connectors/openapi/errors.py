"""The one error the OpenAPI connector raises for a spec it cannot use."""

from __future__ import annotations

from urllib.parse import unquote, urlsplit


class SpecError(Exception):
    """A spec that cannot be loaded or converted.

    `str(error)` is one line: "<file or URL>#<JSON pointer>: <what is wrong>". Errors raised deep
    inside a schema walk start without a location; each level of the walk adds its key while
    the error unwinds (free when nothing fails), and the walk's root fixes the document.
    """

    def __init__(self, message: str, *, document: str | None = None, pointer: str = "") -> None:
        super().__init__(message)
        self.message = " ".join(message.split())  # one line, whatever the cause said
        self.document = document
        self.pointer = pointer
        self._tokens: list[str] = []

    def __str__(self) -> str:
        if self.document is None:
            return self.message
        return f"{display_uri(self.document)}#{self.pointer}: {self.message}"

    def prepend(self, token: str | int) -> None:
        """Record one more (outer) step of the JSON pointer, while the error unwinds."""
        if self.document is None:
            self._tokens.append(escape_token(str(token)))

    def locate(self, document: str, pointer: str) -> SpecError:
        """Fix the location: `pointer` in `document` plus the steps recorded so far."""
        if self.document is None:
            self.document = document
            self.pointer = pointer + "".join("/" + t for t in reversed(self._tokens))
        return self


def escape_token(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def display_uri(uri: str) -> str:
    """A file URI as a plain path (what the operator typed), anything else unchanged."""
    parts = urlsplit(uri)
    return unquote(parts.path) if parts.scheme == "file" else uri

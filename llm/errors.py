"""Errors in OpenAI's format, and the classification of upstream failures that drives failover."""

from __future__ import annotations

import enum
from dataclasses import dataclass

import orjson

_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    408: "timeout_error",
    413: "invalid_request_error",
    422: "invalid_request_error",
    429: "rate_limit_error",
}


class LlmError(Exception):
    """An error the client sees, as OpenAI's `{"error": {...}}` body with a matching status."""

    def __init__(
        self,
        status: int,
        message: str,
        code: str | None = None,
        param: str | None = None,
        retry_after_s: float | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.param = param
        self.retry_after_s = retry_after_s

    def body(self) -> dict[str, object]:
        error_type = _TYPES.get(self.status, "api_error")
        return {
            "error": {"message": self.message, "type": error_type, "param": self.param, "code": self.code}
        }

    def to_json(self) -> bytes:
        return orjson.dumps(self.body())


class Failure(enum.Enum):
    """What an upstream failure means for the next attempt."""

    RETRYABLE = "retryable"  # connection error, timeout, 429, 5xx: retry or fall over
    CONTEXT_WINDOW = "context_window"  # fall over to a larger-context deployment
    CONTENT_POLICY = "content_policy"  # fall over only to a configured fallback group
    FATAL = "fatal"  # the request itself is wrong (400, 401, 404...): answer it as is


@dataclass(slots=True)
class UpstreamFailure(Exception):
    """One attempt at one deployment failed. `body` is the upstream's error body when usable."""

    kind: Failure
    status: int
    message: str
    retry_after_s: float | None = None
    body: bytes | None = None

    def __str__(self) -> str:
        return self.message

    def to_client(self) -> LlmError:
        status = 502 if self.kind is Failure.RETRYABLE and self.status < 400 else self.status
        return LlmError(status, self.message, code=self.kind.value, retry_after_s=self.retry_after_s)


_CONTEXT_MARKERS = (
    "context_length_exceeded",
    "maximum context length",
    "context window",
    "prompt is too long",
    "too many tokens",
    "input is too long",
)
_POLICY_MARKERS = ("content_filter", "content_policy", "content management policy", "safety")


def classify_status(status: int, text: str) -> Failure:
    if status == 429 or status == 408 or status >= 500:
        return Failure.RETRYABLE
    lowered = text.lower()
    if status in (400, 413) and any(marker in lowered for marker in _CONTEXT_MARKERS):
        return Failure.CONTEXT_WINDOW
    if status == 400 and any(marker in lowered for marker in _POLICY_MARKERS):
        return Failure.CONTENT_POLICY
    return Failure.FATAL


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After (or retry-after-ms style, already converted) header; dates unsupported."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None

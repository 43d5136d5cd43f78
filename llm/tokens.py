"""Offline token counting for providers that report no usage.

tiktoken alone downloads its encodings; litellm ships them, so tiktoken is pointed at litellm's
copy. Counts for non-OpenAI models are estimates (litellm's token_counter falls back to the
same encodings for them).
"""

from __future__ import annotations

import functools
import os
from typing import Any

import orjson

from llm.litellm_env import tiktoken_cache_dir

_O200K_PREFIXES = ("gpt-4o", "gpt-4.1", "gpt-5", "o1", "o3", "o4", "chatgpt-4o")
# OpenAI's documented overhead: tokens per message for role and framing, and for the reply primer.
_PER_MESSAGE = 3
_REPLY_PRIMER = 3


@functools.cache
def _encoding(name: str) -> Any:
    os.environ.setdefault("TIKTOKEN_CACHE_DIR", str(tiktoken_cache_dir()))
    import tiktoken

    return tiktoken.get_encoding(name)


def _encoding_for(model: str) -> Any:
    bare = model.rsplit("/", 1)[-1]
    return _encoding("o200k_base" if bare.startswith(_O200K_PREFIXES) else "cl100k_base")


def count_text(model: str, text: str) -> int:
    return len(_encoding_for(model).encode(text, disallowed_special=()))


def count_prompt(model: str, prompt: Any) -> int:
    """Chat messages (with the per-message overhead), or an embeddings input (string or list)."""
    if isinstance(prompt, str):
        return count_text(model, prompt)
    if isinstance(prompt, list) and prompt and isinstance(prompt[0], dict):
        return sum(_PER_MESSAGE + count_text(model, _message_text(m)) for m in prompt) + _REPLY_PRIMER
    if isinstance(prompt, list):
        return sum(count_text(model, item) if isinstance(item, str) else len(item) for item in prompt)
    return 0


def _message_text(message: dict[str, Any]) -> str:
    content = message.get("content")
    if isinstance(content, list):
        content = " ".join(part.get("text", "") for part in content if isinstance(part, dict))
    extra = orjson.dumps(message["tool_calls"]).decode() if message.get("tool_calls") else ""
    return f"{message.get('role', '')} {content or ''} {extra}"


def count_completion(model: str, payloads: list[bytes]) -> int:
    """Tokens of the text and tool-call arguments in OpenAI chunks (or a whole answer's messages)."""
    parts: list[str] = []
    for payload in payloads:
        data = orjson.loads(payload)
        for choice in (data.get("choices") if isinstance(data, dict) else None) or []:
            delta = choice.get("delta") or choice.get("message") or {}
            parts.append(delta.get("content") or "")
            for call in delta.get("tool_calls") or []:
                function = call.get("function") or {}
                parts.append((function.get("name") or "") + (function.get("arguments") or ""))
    return count_text(model, "".join(parts))

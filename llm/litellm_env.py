"""The one place litellm is imported, with its network fetches switched off first.

`import litellm` otherwise fetches the model cost map (and retries in a background thread),
and its token counter reaches for Hugging Face: with no internet that stalls start-up for
seconds. The import costs 3-5 s of CPU, so it happens only when a deployment needs litellm.
Data files it ships (cost map, tokenizer caches) are read without importing it.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
from pathlib import Path
from types import ModuleType
from typing import Any

OFFLINE_ENV = {
    "LITELLM_LOCAL_MODEL_COST_MAP": "True",
    "LITELLM_OFFLINE_MODE": "true",
    "HF_HUB_OFFLINE": "1",
}


def load(module: str) -> ModuleType:
    """A litellm module, imported by name (so type checkers do not walk litellm's 200 MB)."""
    for name, value in OFFLINE_ENV.items():
        os.environ.setdefault(name, value)
    litellm: Any = importlib.import_module("litellm")
    litellm.suppress_debug_info = True  # else it prints provider-list banners to stdout
    return importlib.import_module(module)


def package_dir() -> Path:
    """litellm's install folder, found without executing its (slow, network-touching) __init__."""
    spec = importlib.util.find_spec("litellm")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("litellm is not installed")
    return Path(next(iter(spec.submodule_search_locations)))


def cost_map_path() -> Path:
    return package_dir() / "model_prices_and_context_window_backup.json"


def tiktoken_cache_dir() -> Path:
    return package_dir() / "litellm_core_utils" / "tokenizers"

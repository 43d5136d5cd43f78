"""Encryption of upstream credentials at rest, and the key that does it.

Keys are Fernet keys. Several may be given (comma-separated, or one per line in the key
file): the first encrypts, all decrypt, so a key can be rotated without re-importing APIs.
Nothing here ever puts key material or plaintext into an exception message, log or repr.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import stat
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import orjson
from cryptography.fernet import Fernet, InvalidToken, MultiFernet

logger = logging.getLogger(__name__)

KEY_FILE_NAME = "secret.key"


class SecretKeyError(Exception):
    """A key is malformed, missing, or does not decrypt stored data."""


class SecretBox:
    """Encrypts and decrypts small secrets (credentials JSON) with Fernet (AES-128-CBC + HMAC)."""

    __slots__ = ("_fernet", "_key_count")

    def __init__(self, keys: Sequence[str | bytes]) -> None:
        if not keys:
            raise SecretKeyError("no secret key given")
        self._fernet = MultiFernet([_fernet(key, position) for position, key in enumerate(keys, 1)])
        self._key_count = len(keys)

    @classmethod
    def from_text(cls, text: str) -> SecretBox:
        """Keys separated by commas or newlines, primary first."""
        keys = [part.strip() for part in text.replace("\n", ",").split(",") if part.strip()]
        return cls(keys)

    @staticmethod
    def generate_key() -> str:
        return Fernet.generate_key().decode("ascii")

    def encrypt(self, plaintext: bytes) -> bytes:
        return self._fernet.encrypt(plaintext)

    def decrypt(self, token: bytes) -> bytes:
        try:
            return self._fernet.decrypt(token)
        except InvalidToken:
            raise SecretKeyError(
                "stored credentials cannot be decrypted with the configured secret key(s); "
                "was the key changed without keeping the old one for rotation?"
            ) from None

    def encrypt_json(self, value: Any) -> bytes:
        return self.encrypt(orjson.dumps(value))

    def decrypt_json(self, token: bytes) -> Any:
        return orjson.loads(self.decrypt(token))

    def rotate(self, token: bytes) -> bytes:
        """Re-encrypt `token` under the primary key."""
        try:
            return self._fernet.rotate(token)
        except InvalidToken:
            raise SecretKeyError("token cannot be decrypted with the configured secret key(s)") from None

    def __repr__(self) -> str:
        return f"SecretBox(<{self._key_count} key(s)>)"

    __str__ = __repr__


def _fernet(key: str | bytes, position: int) -> Fernet:
    raw = key.encode("ascii", "replace") if isinstance(key, str) else key
    try:
        return Fernet(raw.strip())
    except (ValueError, TypeError):
        # The key itself is deliberately left out of the message.
        raise SecretKeyError(
            f"secret key #{position} is not a valid Fernet key (32 url-safe base64-encoded bytes)"
        ) from None


def load_or_create_key(data_dir: Path, configured: str | None) -> SecretBox:
    """The configured key(s) if given; else `data_dir/secret.key`, created on first use (mode 0600)."""
    if configured and configured.strip():
        return SecretBox.from_text(configured)
    path = Path(data_dir) / KEY_FILE_NAME
    if not path.exists():
        _create_key_file(path)
    return _read_key_file(path)


def _create_key_file(path: Path) -> None:
    """Publish a new key file atomically; if another process wins the race, its key is used.

    The key is written to a private temporary file first and then hard-linked into place:
    link() fails if the name exists, so readers only ever see a complete key file.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(8)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(Fernet.generate_key() + b"\n")
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:
            return  # another process created it first
        except OSError:
            # No hard links on this filesystem: exclusive create of the final name instead.
            _create_exclusive(path, tmp.read_bytes())
            return
        logger.info("generated a new secret key", extra={"path": str(path)})
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def _create_exclusive(path: Path, content: bytes) -> None:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    with os.fdopen(fd, "wb") as handle:
        handle.write(content)
        handle.flush()
        os.fsync(handle.fileno())


def _read_key_file(path: Path) -> SecretBox:
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        logger.warning(
            "secret key file is readable by other users; restrict it with chmod 600",
            extra={"path": str(path), "mode": oct(mode)},
        )
    text = path.read_text(encoding="ascii", errors="replace")
    if not text.strip():
        raise SecretKeyError(f"secret key file {path} is empty; delete it to generate a new key")
    try:
        return SecretBox.from_text(text)
    except SecretKeyError as exc:
        raise SecretKeyError(f"{path}: {exc}") from None

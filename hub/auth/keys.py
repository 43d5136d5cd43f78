"""The embedded AS's signing keys: RSA, generated into the data dir (0600), several kept for rotation.

Files are named `<created-unix-time>-<kid>.pem`; the newest signs, the newest `KEEP` are published
in the JWKS so tokens signed just before a rotation still verify.
"""

from __future__ import annotations

import json
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

KEEP = 3
ALGORITHM = "RS256"  # RSA verification is cheaper than ECDSA's, and it is on every request


@dataclass(frozen=True, slots=True)
class SigningKey:
    kid: str
    private_key: rsa.RSAPrivateKey

    def public_jwk(self) -> dict[str, Any]:
        jwk: dict[str, Any] = json.loads(RSAAlgorithm.to_jwk(self.private_key.public_key()))
        return {**jwk, "kid": self.kid, "use": "sig", "alg": ALGORITHM}


def keys_dir(data_dir: Path) -> Path:
    return data_dir / "auth" / "keys"


def load_keys(data_dir: Path) -> list[SigningKey]:
    """Newest first; creates the first key when there is none."""
    directory = keys_dir(data_dir)
    files = sorted(directory.glob("*.pem"), reverse=True) if directory.is_dir() else []
    if not files:
        return [rotate(data_dir)]
    return [_read(path) for path in files[:KEEP]]


def rotate(data_dir: Path) -> SigningKey:
    """Generate a new signing key; it signs from the next load on."""
    directory = keys_dir(data_dir)
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    kid = secrets.token_urlsafe(12)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    path = directory / f"{int(time.time() * 1000):015d}-{kid}.pem"
    # O_EXCL + 0600 at creation: the key is never readable by others, not even for a moment.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(pem)
    return SigningKey(kid, key)


def _read(path: Path) -> SigningKey:
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError(f"{path}: not an RSA private key")
    return SigningKey(path.stem.split("-", 1)[1], key)

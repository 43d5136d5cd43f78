"""SecretBox and the secret key file."""

from __future__ import annotations

import logging
import stat
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from catalog.crypto import KEY_FILE_NAME, SecretBox, SecretKeyError, load_or_create_key


def test_round_trip_and_no_plaintext_in_token() -> None:
    box = SecretBox([SecretBox.generate_key()])
    token = box.encrypt_json({"api_key": "hunter2"})
    assert b"hunter2" not in token
    assert box.decrypt_json(token) == {"api_key": "hunter2"}


def test_repr_shows_no_key_material() -> None:
    key = SecretBox.generate_key()
    box = SecretBox([key, SecretBox.generate_key()])
    assert key not in repr(box) and key not in str(box)
    assert repr(box) == "SecretBox(<2 key(s)>)"


def test_rotation_decrypts_with_old_keys_and_encrypts_with_the_first() -> None:
    old, new = SecretBox.generate_key(), SecretBox.generate_key()
    token = SecretBox([old]).encrypt(b"data")
    rotated_box = SecretBox.from_text(f"{new}, {old}")
    assert rotated_box.decrypt(token) == b"data"
    rotated = rotated_box.rotate(token)
    assert SecretBox([new]).decrypt(rotated) == b"data"
    with pytest.raises(SecretKeyError):
        SecretBox([old]).decrypt(rotated)


def test_wrong_key_and_bad_key_errors_do_not_leak() -> None:
    token = SecretBox([SecretBox.generate_key()]).encrypt(b"data")
    with pytest.raises(SecretKeyError, match="cannot be decrypted"):
        SecretBox([SecretBox.generate_key()]).decrypt(token)
    bad = "not-a-real-key-but-maybe-a-password"
    with pytest.raises(SecretKeyError, match="not a valid Fernet key") as failure:
        SecretBox([bad])
    assert bad not in str(failure.value)
    with pytest.raises(SecretKeyError):
        SecretBox([])


def test_key_file_is_created_0600_and_reused(tmp_path: Path) -> None:
    box = load_or_create_key(tmp_path, None)
    path = tmp_path / KEY_FILE_NAME
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    token = box.encrypt(b"data")
    again = load_or_create_key(tmp_path, None)
    assert again.decrypt(token) == b"data"
    assert [p.name for p in tmp_path.iterdir()] == [KEY_FILE_NAME]  # no temporary files left behind


def test_configured_key_wins_and_creates_no_file(tmp_path: Path) -> None:
    key = SecretBox.generate_key()
    box = load_or_create_key(tmp_path / "data", key)
    assert SecretBox([key]).decrypt(box.encrypt(b"x")) == b"x"
    assert not (tmp_path / "data").exists()
    assert load_or_create_key(tmp_path, "   ").encrypt(b"x")  # blank means "not configured"


def test_concurrent_creation_agrees_on_one_key(tmp_path: Path) -> None:
    with ThreadPoolExecutor(max_workers=8) as pool:
        boxes = list(pool.map(lambda _: load_or_create_key(tmp_path, None), range(16)))
    token = boxes[0].encrypt(b"data")
    assert all(box.decrypt(token) == b"data" for box in boxes)
    assert [p.name for p in tmp_path.iterdir()] == [KEY_FILE_NAME]


def test_unusable_key_files_are_reported(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / KEY_FILE_NAME
    path.write_text("")
    with pytest.raises(SecretKeyError, match="empty"):
        load_or_create_key(tmp_path, None)
    path.write_text("garbage-garbage")
    with pytest.raises(SecretKeyError, match="not a valid Fernet key") as failure:
        load_or_create_key(tmp_path, None)
    assert "garbage" not in str(failure.value)

    key = SecretBox.generate_key()
    path.write_text(key + "\n")
    path.chmod(0o644)
    with caplog.at_level(logging.WARNING, logger="catalog.crypto"):
        load_or_create_key(tmp_path, None)
    assert "chmod 600" in caplog.text and key not in caplog.text

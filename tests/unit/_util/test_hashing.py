import io
import random
from pathlib import Path

import blake3
import pytest

from loopml._util import hashing
from loopml._util.hashing import (
    DIGEST_HEX_LEN,
    StreamHasher,
    hash_bytes,
    hash_file,
    is_digest,
)


def _data(size: int) -> bytes:
    return random.Random(size).randbytes(size)


@pytest.mark.parametrize("size", [0, 1, 1023, 1024, 1025, 1 << 20, 5 * (1 << 20) + 3])
def test_hash_bytes_agrees_with_blake3(size: int) -> None:
    data = _data(size)
    assert hash_bytes(data) == blake3.blake3(data).hexdigest()
    assert hash_bytes(bytearray(data)) == hash_bytes(memoryview(data))


@pytest.mark.parametrize("size", [0, 1, hashing.CHUNK_SIZE, hashing.CHUNK_SIZE + 1])
def test_hash_file_chunked_agrees_with_blake3(tmp_path: Path, size: int) -> None:
    data = _data(size)
    path = tmp_path / "f"
    path.write_bytes(data)
    assert hash_file(path) == blake3.blake3(data).hexdigest()


def test_hash_file_mmap_equals_chunked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = _data(hashing.MMAP_THRESHOLD + 12345)
    path = tmp_path / "big"
    path.write_bytes(data)
    mapped = hash_file(path)
    monkeypatch.setattr(hashing, "MMAP_THRESHOLD", len(data) + 1)
    assert hash_file(str(path)) == mapped == blake3.blake3(data).hexdigest()


def test_stream_hasher_agrees_with_one_shot() -> None:
    data = _data(3 * (1 << 20) + 7)
    hasher = StreamHasher()
    stream = io.BytesIO(data)
    while chunk := stream.read(65_537):
        hasher.update(chunk)
    assert (hasher.hexdigest(), hasher.size) == (hash_bytes(data), len(data))


def test_stream_hasher_empty_is_empty_digest() -> None:
    assert StreamHasher().hexdigest() == hash_bytes(b"")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (hash_bytes(b"x"), True),
        ("0" * DIGEST_HEX_LEN, True),
        ("0" * (DIGEST_HEX_LEN - 1), False),
        ("0" * (DIGEST_HEX_LEN + 1), False),
        ("A" * DIGEST_HEX_LEN, False),
        ("g" * DIGEST_HEX_LEN, False),
        ("../" + "0" * (DIGEST_HEX_LEN - 3), False),
        ("", False),
        (None, False),
        (b"0" * DIGEST_HEX_LEN, False),
    ],
)
def test_is_digest_accepts_only_lowercase_hex(value: object, expected: bool) -> None:
    assert is_digest(value) is expected

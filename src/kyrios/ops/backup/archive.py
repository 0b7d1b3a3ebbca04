"""The backup file: a readable manifest, then the dump compressed with zstd and, with a key,
encrypted with AES-256-GCM.

    KYRIOS-BACKUP\\n | manifest length (4 bytes, big-endian) | manifest (JSON) | body

The body is `zstd(dump)`, or `AES-256-GCM(zstd(dump))` followed by the 16-byte tag; the manifest
holds the SHA-256 of the body, so a damaged file is refused before anything is decrypted, and the
GCM tag then tells a wrong key apart. The AES key comes from the passphrase through scrypt with a
salt kept in the manifest. Everything streams in chunks: a dump never has to fit in memory.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import struct
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any

import zstandard
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

MAGIC = b"KYRIOS-BACKUP\n"
FORMAT = 1
CHUNK = 1 << 20
TAG_BYTES = 16
AAD = b"kyrios-backup-1"
SCRYPT_N = 2**15


class BackupError(Exception):
    """A backup cannot be made, read or restored; the message says why, for the operator."""


@dataclass
class Manifest:
    """What a backup holds; stored in clear at the start of the file."""

    kind: str
    """`sqlite`, `postgresql` or `mysql`: which database the dump restores into."""
    schema_heads: list[str]
    created_at: str
    """ISO 8601, UTC."""
    dump_bytes: int = 0
    stored_bytes: int = 0
    sha256: str = ""
    """Of the body as stored (after compression and encryption)."""
    compression: str = "zstd"
    encryption: dict[str, str] | None = None
    """`{"cipher": "AES-256-GCM", "kdf": "scrypt", "salt": …, "nonce": …}` (base64), or None."""
    format: int = FORMAT
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> bytes:
        return json.dumps(asdict(self), sort_keys=True).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> Manifest:
        data = json.loads(raw)
        if data.get("format") != FORMAT:
            raise BackupError(f"unknown backup format {data.get('format')!r} (this Kyrios reads {FORMAT})")
        return cls(**data)


def _key(passphrase: str, salt: bytes) -> bytes:
    return Scrypt(salt=salt, length=32, n=SCRYPT_N, r=8, p=1).derive(passphrase.encode())


def write(
    chunks: Iterable[bytes],
    target: Path,
    manifest: Manifest,
    *,
    passphrase: str | None,
    on_bytes: Callable[[int], None] | None = None,
) -> Manifest:
    """Compress (and encrypt) `chunks` into the backup file `target`; returns the completed manifest.

    The file appears under its name only when complete (written beside it, then renamed).
    """
    body_path = target.with_name(target.name + ".body")
    partial = target.with_name(target.name + ".partial")
    encryptor = None
    if passphrase:
        salt, nonce = os.urandom(16), os.urandom(12)
        encryptor = Cipher(algorithms.AES(_key(passphrase, salt)), modes.GCM(nonce)).encryptor()
        encryptor.authenticate_additional_data(AAD)
        manifest.encryption = {
            "cipher": "AES-256-GCM",
            "kdf": f"scrypt-n{SCRYPT_N}-r8-p1",
            "salt": base64.b64encode(salt).decode(),
            "nonce": base64.b64encode(nonce).decode(),
        }
    digest = hashlib.sha256()
    dumped = 0
    try:
        with body_path.open("wb") as body:

            def put(data: bytes) -> None:
                if encryptor is not None:
                    data = encryptor.update(data)
                digest.update(data)
                body.write(data)

            compressor = zstandard.ZstdCompressor(level=6, write_checksum=True).compressobj()
            for chunk in chunks:
                dumped += len(chunk)
                put(compressor.compress(chunk))
                if on_bytes is not None:
                    on_bytes(len(chunk))
            put(compressor.flush())
            if encryptor is not None:
                encryptor.finalize()
                tail = encryptor.tag
                digest.update(tail)
                body.write(tail)
        manifest.dump_bytes = dumped
        manifest.stored_bytes = body_path.stat().st_size
        manifest.sha256 = digest.hexdigest()
        header = manifest.to_json()
        with partial.open("wb") as out, body_path.open("rb") as stored:
            out.write(MAGIC + struct.pack(">I", len(header)) + header)
            while block := stored.read(CHUNK):
                out.write(block)
        partial.replace(target)
    finally:
        body_path.unlink(missing_ok=True)
        partial.unlink(missing_ok=True)
    return manifest


def read_manifest(path: Path) -> Manifest:
    """The manifest of a backup file, or BackupError if it is not one."""
    with path.open("rb") as source:
        return _header(source, path)


def _header(source: IO[bytes], path: Path) -> Manifest:
    if source.read(len(MAGIC)) != MAGIC:
        raise BackupError(f"{path} is not a Kyrios backup")
    raw_length = source.read(4)
    if len(raw_length) != 4:
        raise BackupError(f"{path} is truncated")
    raw = source.read(struct.unpack(">I", raw_length)[0])
    try:
        return Manifest.from_json(raw)
    except (ValueError, TypeError) as error:
        raise BackupError(f"{path}: the manifest is damaged ({error})") from error


def extract(
    path: Path, target: Path, *, passphrase: str | None, on_bytes: Callable[[int], None] | None = None
) -> Manifest:
    """Check `path` whole (checksum, then key) and write its dump to `target`.

    Raises BackupError — and leaves no `target` behind — for a damaged file or a wrong or missing key.
    """
    manifest = read_manifest(path)
    with path.open("rb") as source:
        _header(source, path)
        start = source.tell()
        digest = hashlib.sha256()
        while block := source.read(CHUNK):
            digest.update(block)
        if digest.hexdigest() != manifest.sha256 or source.tell() - start != manifest.stored_bytes:
            raise BackupError(
                f"{path} is damaged: its checksum does not match the one it was written with; "
                "nothing was restored"
            )
        decryptor = None
        end = source.tell()
        if manifest.encryption is not None:
            if not passphrase:
                raise BackupError(f"{path} is encrypted: set KYRIOS_BACKUP_KEY to the key it was made with")
            salt = base64.b64decode(manifest.encryption["salt"])
            nonce = base64.b64decode(manifest.encryption["nonce"])
            source.seek(end - TAG_BYTES)
            tag = source.read(TAG_BYTES)
            end -= TAG_BYTES
            decryptor = Cipher(algorithms.AES(_key(passphrase, salt)), modes.GCM(nonce, tag)).decryptor()
            decryptor.authenticate_additional_data(AAD)
        source.seek(start)
        # The compressed dump is parked in `target` (unauthenticated until the tag is checked),
        # then decompressed in place once it is known sound.
        try:
            with target.open("wb") as out:
                remaining = end - start
                while remaining > 0:
                    block = source.read(min(CHUNK, remaining))
                    remaining -= len(block)
                    out.write(decryptor.update(block) if decryptor is not None else block)
                    if on_bytes is not None:
                        on_bytes(len(block))
                if decryptor is not None:
                    decryptor.finalize()
        except InvalidTag:
            target.unlink(missing_ok=True)
            raise BackupError(
                f"the key does not open {path} (is KYRIOS_BACKUP_KEY the one it was made with?); "
                "nothing was restored"
            ) from None
    _decompress_in_place(target)
    return manifest


def _decompress_in_place(path: Path) -> None:
    """Replace the authenticated, still compressed `path` with its decompressed content."""
    plain = path.with_name(path.name + ".plain")
    try:
        with path.open("rb") as source, plain.open("wb") as out:
            zstandard.ZstdDecompressor().copy_stream(source, out, read_size=CHUNK, write_size=CHUNK)
        plain.replace(path)
    except zstandard.ZstdError as error:
        path.unlink(missing_ok=True)
        raise BackupError(f"{path} does not decompress ({error}); nothing was restored") from error
    finally:
        plain.unlink(missing_ok=True)

"""Encryption at rest: personal-data fields, agent-client secrets and archived originals.

One master key, ``GATEWAY_DATA_KEY`` (32 random bytes, URL-safe base64), from which HKDF-SHA256 derives a key
per purpose:

* ``pii`` — AES-256-GCM for debtor fields and bank remitter names (the field name is the associated data,
  so a ciphertext moved to another column does not decrypt);
* ``index`` — HMAC-SHA256 blind indexes, so equal debtor references can be found without decrypting;
* ``client`` — AES-256-GCM for agent API secrets (HMAC verification needs them back);
* ``archive`` — an X25519 key pair: originals are sealed to the public half (ECIES, then AES-GCM in 1 MiB
  segments with a counter and a last-segment flag, so truncation and reordering are detected).

The internet-facing process (agent API, payer page) runs with the *public keyring* instead of the data key:
the ``client`` key, the archive *public* key and the fingerprint — it can verify agents and archive what
they post, but cannot decrypt a name or an archived bank file.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import struct
import unicodedata
from collections.abc import Iterator
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from gateway.errors import ConfigError
from gateway.errors import GatewayError

_FIELD_PREFIX = "v1:"
_ARCHIVE_MAGIC = b"KGA1"
_SEGMENT = 1 << 20


class DecryptionError(GatewayError):
    """A ciphertext that does not decrypt with this key (wrong key, wrong field, or tampered)."""

    status = 500
    code = "decryption_error"


class KeyUnavailable(GatewayError):
    """This process was started without the key a purpose needs (e.g. the public process and names)."""

    status = 500
    code = "key_unavailable"


def _hkdf(key: bytes, purpose: str, length: int = 32, salt: bytes | None = None) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=salt, info=purpose.encode()).derive(key)


def _b64d(text: str, what: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text.strip() + "=" * (-len(text.strip()) % 4))
    except (binascii.Error, ValueError) as ex:
        raise ConfigError(f"{what} is not URL-safe base64") from ex


def _b64e(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def generate_key() -> str:
    """A new random data key, in the format ``GATEWAY_DATA_KEY`` expects."""
    return _b64e(os.urandom(32))


class Keyring:
    """The derived keys a process holds. Build with :meth:`from_data_key` or :meth:`from_public`."""

    def __init__(
        self,
        *,
        fingerprint: str,
        client: bytes,
        archive_public: X25519PublicKey,
        pii: bytes | None = None,
        index: bytes | None = None,
        archive_private: X25519PrivateKey | None = None,
    ) -> None:
        self.fingerprint = fingerprint
        self._client = AESGCM(client)
        self._client_raw = client
        self.archive_public = archive_public
        self._pii = AESGCM(pii) if pii else None
        self._index = index
        self._archive_private = archive_private

    @classmethod
    def from_data_key(cls, data_key: str) -> Keyring:
        """Derive every purpose key from the master data key."""
        master = _b64d(data_key, "GATEWAY_DATA_KEY")
        if len(master) < 32:
            raise ConfigError("GATEWAY_DATA_KEY must hold at least 32 random bytes (gateway keys generate)")
        private = X25519PrivateKey.from_private_bytes(_hkdf(master, "konbini-gateway archive x25519 v1"))
        return cls(
            fingerprint=_hkdf(master, "konbini-gateway fingerprint v1", 16).hex(),
            client=_hkdf(master, "konbini-gateway client secrets v1"),
            archive_public=private.public_key(),
            pii=_hkdf(master, "konbini-gateway pii aes-gcm v1"),
            index=_hkdf(master, "konbini-gateway blind index v1"),
            archive_private=private,
        )

    @classmethod
    def from_public(cls, exported: str) -> Keyring:
        """The internet-facing process's keyring (see :meth:`export_public`)."""
        try:
            data = json.loads(_b64d(exported, "GATEWAY_PUBLIC_KEYRING"))
            return cls(
                fingerprint=data["fingerprint"],
                client=_b64d(data["client"], "client key"),
                archive_public=X25519PublicKey.from_public_bytes(_b64d(data["archive"], "archive key")),
            )
        except (KeyError, ValueError, TypeError) as ex:
            raise ConfigError("GATEWAY_PUBLIC_KEYRING is malformed (gateway keys public)") from ex

    def export_public(self) -> str:
        """The keys the public process may hold: client secrets, archive public key, fingerprint."""
        raw = self.archive_public.public_bytes_raw()
        doc = {"fingerprint": self.fingerprint, "client": _b64e(self._client_raw), "archive": _b64e(raw)}
        return _b64e(json.dumps(doc, sort_keys=True).encode())

    @property
    def can_read_personal_data(self) -> bool:
        return self._pii is not None

    # -- personal-data fields -------------------------------------------------------------------------
    def _pii_aead(self) -> AESGCM:
        if self._pii is None:
            raise KeyUnavailable("this process holds no key for personal data (public mode)")
        return self._pii

    def encrypt_field(self, value: str | None, field: str) -> str | None:
        """Encrypt one field value; ``field`` (e.g. ``"debtor.name"``) is bound as associated data."""
        if value is None:
            return None
        nonce = os.urandom(12)
        ct = self._pii_aead().encrypt(nonce, value.encode(), field.encode())
        return _FIELD_PREFIX + _b64e(nonce + ct)

    def decrypt_field(self, token: str | None, field: str) -> str | None:
        if token is None:
            return None
        if not token.startswith(_FIELD_PREFIX):
            raise DecryptionError(f"{field}: not an encrypted value")
        raw = base64.urlsafe_b64decode(token[3:] + "=" * (-len(token[3:]) % 4))
        try:
            return self._pii_aead().decrypt(raw[:12], raw[12:], field.encode()).decode()
        except InvalidTag as ex:
            raise DecryptionError(f"{field}: does not decrypt with this data key") from ex

    def blind_index(self, value: str, purpose: str) -> str:
        """A keyed hash of the NFKC-normalised, space-free ``value`` for equality lookups."""
        if self._index is None:
            raise KeyUnavailable("this process holds no blind-index key (public mode)")
        normal = "".join(unicodedata.normalize("NFKC", value).split()).upper()
        return hmac.new(self._index, f"{purpose}\0{normal}".encode(), hashlib.sha256).hexdigest()

    # -- agent client secrets -------------------------------------------------------------------------
    def encrypt_secret(self, secret: str, key_id: str) -> str:
        nonce = os.urandom(12)
        return _b64e(nonce + self._client.encrypt(nonce, secret.encode(), key_id.encode()))

    def decrypt_secret(self, token: str, key_id: str) -> str:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        try:
            return self._client.decrypt(raw[:12], raw[12:], key_id.encode()).decode()
        except InvalidTag as ex:
            raise DecryptionError(f"client {key_id}: secret does not decrypt with this key") from ex

    # -- archived originals -----------------------------------------------------------------------------
    def archive_writer(self, out: BinaryIO) -> ArchiveWriter:
        return ArchiveWriter(out, self.archive_public)

    def archive_reader(self, inp: BinaryIO) -> Iterator[bytes]:
        """Yield the decrypted plaintext of a sealed original, segment by segment."""
        if self._archive_private is None:
            raise KeyUnavailable("this process cannot open archived originals (public mode)")
        return _read_archive(inp, self._archive_private)


def _archive_key(shared: bytes, ephemeral: bytes, recipient: bytes) -> bytes:
    return _hkdf(shared, "konbini-gateway archive v1", salt=ephemeral + recipient)


class ArchiveWriter:
    """Seal a stream to the archive public key; call :meth:`write` any number of times, then :meth:`close`."""

    def __init__(self, out: BinaryIO, recipient: X25519PublicKey) -> None:
        ephemeral = X25519PrivateKey.generate()
        eph_raw = ephemeral.public_key().public_bytes_raw()
        key = _archive_key(ephemeral.exchange(recipient), eph_raw, recipient.public_bytes_raw())
        self._aead = AESGCM(key)
        self._prefix = os.urandom(7)
        self._out = out
        self._counter = 0
        self._pending = bytearray()
        out.write(_ARCHIVE_MAGIC + eph_raw + self._prefix)

    def _emit(self, chunk: bytes, last: bool) -> None:
        nonce = self._prefix + struct.pack(">IB", self._counter, 1 if last else 0)
        ct = self._aead.encrypt(nonce, chunk, None)
        self._out.write(struct.pack(">I", len(ct)) + ct)
        self._counter += 1

    def write(self, data: bytes) -> None:
        self._pending += data
        # Keep at least one byte back so the final segment is always written by close() with last=1.
        while len(self._pending) > _SEGMENT:
            self._emit(bytes(self._pending[:_SEGMENT]), last=False)
            del self._pending[:_SEGMENT]

    def close(self) -> None:
        self._emit(bytes(self._pending), last=True)
        self._pending.clear()


def _read_archive(inp: BinaryIO, private: X25519PrivateKey) -> Iterator[bytes]:
    head = inp.read(4 + 32 + 7)
    if len(head) != 43 or head[:4] != _ARCHIVE_MAGIC:
        raise DecryptionError("not an archived original")
    eph_raw, prefix = head[4:36], head[36:43]
    recipient = private.public_key().public_bytes_raw()
    aead = AESGCM(
        _archive_key(private.exchange(X25519PublicKey.from_public_bytes(eph_raw)), eph_raw, recipient)
    )
    counter = 0
    while True:
        size_raw = inp.read(4)
        if len(size_raw) != 4:
            raise DecryptionError("archived original is truncated")
        ct = inp.read(struct.unpack(">I", size_raw)[0])
        for last in (0, 1):
            try:
                chunk = aead.decrypt(prefix + struct.pack(">IB", counter, last), ct, None)
            except InvalidTag:
                continue
            break
        else:
            raise DecryptionError("archived original does not decrypt (wrong key or tampered)")
        counter += 1
        yield chunk
        if last:
            if inp.read(1):
                raise DecryptionError("archived original has data after its last segment")
            return

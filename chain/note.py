"""Signed notes (https://c2sp.org/signed-note), after Go's golang.org/x/mod/sumdb/note.

A note is UTF-8 text ending in a newline, a blank line, then one or more lines
``— <key name> <base64(4-byte key ID || signature)>``. Only Ed25519 keys (type 0x01) are
implemented; signatures of other types or from unknown keys are kept as unverified and
ignored, which is what lets witnesses cosign our checkpoints without breaking readers.

Key strings are those of Go and C2SP: verifier keys ``<name>+<hex8 key ID>+base64(0x01 ||
public key)`` and Go's private keys ``PRIVATE+KEY+<name>+<hex8>+base64(0x01 || seed)``
("PRIVATE+KEY" so a secret is never mistaken for the public key).

``open`` shadows the builtin on purpose, mirroring Go's ``note.Open``; use it as
``note.open(...)`` or via the facade name ``open_note``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field

from Crypto.PublicKey.ECC import EccKey
from Crypto.Random import get_random_bytes
from Crypto.Signature import eddsa

from chain.errors import (
    InvalidSignatureError,
    MalformedError,
    SignatureError,
    UnverifiedNoteError,
)

ALG_ED25519 = 0x01
SIG_PREFIX = "— "  # U+2014 EM DASH, then a space
MAX_SIGNATURES = 100  # as Go: do not spend forever on a note with many signatures


def key_id(name: str, key: bytes) -> int:
    """Return the 32-bit key ID: SHA-256(name || 0x0A || type byte || public key)[:4]."""
    digest = hashlib.sha256(name.encode() + b"\n" + key).digest()
    return int.from_bytes(digest[:4], "big")


def is_valid_name(name: str) -> bool:
    """A key name is non-empty, with no Unicode space and no '+' (the key string separator)."""
    return bool(name) and "+" not in name and not any(c.isspace() for c in name)


@dataclass(frozen=True)
class Verifier:
    """An Ed25519 public key with its note name and key ID."""

    name: str
    key_id: int
    public_key: bytes

    def verify(self, msg: bytes, sig: bytes) -> bool:
        """Return whether sig is a valid Ed25519 signature of msg (never raises)."""
        try:
            eddsa.new(eddsa.import_public_key(self.public_key), "rfc8032").verify(msg, sig)
        except ValueError:
            return False
        return True

    @property
    def vkey(self) -> str:
        """The encoded verifier key, as published for auditors."""
        return new_ed25519_vkey(self.name, self.public_key)


@dataclass(frozen=True)
class Signer:
    """An Ed25519 private key with its note name and key ID."""

    name: str
    key_id: int
    _key: EccKey = field(repr=False)

    def sign(self, msg: bytes) -> bytes:
        """Return the (deterministic, RFC 8032) Ed25519 signature of msg."""
        return eddsa.new(self._key, "rfc8032").sign(msg)

    @property
    def verifier(self) -> Verifier:
        """The matching public verifier."""
        return Verifier(self.name, self.key_id, _raw_public_key(self._key))


@dataclass(frozen=True)
class Signature:
    """One signature line of a note: key name, key ID and the base64 text as written."""

    name: str
    key_id: int
    base64: str


@dataclass(frozen=True)
class Note:
    """An opened note: its text, signatures that verified, and the ones we could not check."""

    text: str
    sigs: tuple[Signature, ...]
    unverified_sigs: tuple[Signature, ...]


def _chop(s: str, sep: str) -> tuple[str, str]:
    before, _, after = s.partition(sep)
    return before, after


def _b64decode(s: str) -> bytes:
    try:
        return base64.b64decode(s, validate=True)
    except (binascii.Error, ValueError) as e:
        raise MalformedError("invalid base64") from e


def _raw_public_key(key: EccKey) -> bytes:
    return key.public_key().export_key(format="raw")


def new_verifier(vkey: str) -> Verifier:
    """Parse an encoded verifier key ``<name>+<hex8>+<base64(0x01||key)>``."""
    name, rest = _chop(vkey, "+")
    hash16, key64 = _chop(rest, "+")
    try:
        key = _b64decode(key64)
        kid = int(hash16, 16)
    except (MalformedError, ValueError) as e:
        raise MalformedError("malformed verifier id") from e
    if len(hash16) != 8 or not all(c in "0123456789abcdefABCDEF" for c in hash16):
        raise MalformedError("malformed verifier id")
    if not is_valid_name(name) or not key:
        raise MalformedError("malformed verifier id")
    if kid != key_id(name, key):
        raise MalformedError("invalid verifier hash")
    if key[0] != ALG_ED25519:
        raise MalformedError("unknown verifier algorithm")
    if len(key) != 33:
        raise MalformedError("malformed verifier id")
    try:
        eddsa.import_public_key(key[1:])
    except ValueError as e:
        raise MalformedError("verifier key is not a valid Ed25519 point") from e
    return Verifier(name, kid, key[1:])


def new_signer(skey: str) -> Signer:
    """Parse a Go-style private key ``PRIVATE+KEY+<name>+<hex8>+<base64(0x01||seed)>``."""
    priv1, rest = _chop(skey, "+")
    priv2, rest = _chop(rest, "+")
    name, rest = _chop(rest, "+")
    hash16, key64 = _chop(rest, "+")
    try:
        key = _b64decode(key64)
        kid = int(hash16, 16)
    except (MalformedError, ValueError) as e:
        raise MalformedError("malformed signer id") from e
    if (priv1, priv2) != ("PRIVATE", "KEY") or len(hash16) != 8 or not is_valid_name(name):
        raise MalformedError("malformed signer id")
    if not key or key[0] != ALG_ED25519:
        raise MalformedError("unknown signer algorithm")
    if len(key) != 33:
        raise MalformedError("malformed signer id")
    priv = eddsa.import_private_key(key[1:])
    # The ID hashes the public key, so it can only be checked after deriving it.
    if kid != key_id(name, bytes([ALG_ED25519]) + _raw_public_key(priv)):
        raise MalformedError("invalid signer hash")
    return Signer(name, kid, priv)


def new_ed25519_vkey(name: str, public_key: bytes) -> str:
    """Encode an Ed25519 public key as a verifier key string."""
    if not is_valid_name(name):
        raise MalformedError(f"invalid key name {name!r}")
    if len(public_key) != 32:
        raise MalformedError("Ed25519 public key must be 32 bytes")
    key = bytes([ALG_ED25519]) + public_key
    return f"{name}+{key_id(name, key):08x}+{base64.b64encode(key).decode()}"


def generate_key(name: str) -> tuple[str, str]:
    """Generate a new Ed25519 key; return (skey, vkey). The skey must be kept secret."""
    if not is_valid_name(name):
        raise MalformedError(f"invalid key name {name!r}")
    seed = get_random_bytes(32)
    pub = _raw_public_key(eddsa.import_private_key(seed))
    kid = key_id(name, bytes([ALG_ED25519]) + pub)
    skey64 = base64.b64encode(bytes([ALG_ED25519]) + seed).decode()
    return f"PRIVATE+KEY+{name}+{kid:08x}+{skey64}", new_ed25519_vkey(name, pub)


def sign(text: str, signers: Iterable[Signer]) -> str:
    """Sign note text (which must end in a newline) and return the full signed note."""
    if not text.endswith("\n"):
        raise MalformedError("malformed note: text must end in a newline")
    _check_chars(text)
    msg = text.encode()
    lines = []
    for s in signers:
        if not is_valid_name(s.name):
            raise MalformedError(f"invalid signer name {s.name!r}")
        sig = s.key_id.to_bytes(4, "big") + s.sign(msg)
        lines.append(f"{SIG_PREFIX}{s.name} {base64.b64encode(sig).decode()}\n")
    if not lines:
        raise SignatureError("a note needs at least one signer")
    return text + "\n" + "".join(lines)


def open(msg: bytes | str, verifiers: Iterable[Verifier]) -> Note:
    """Parse a signed note and check its signatures against the trusted verifiers.

    Signatures by unknown keys are recorded as unverified and ignored; a bad signature by
    a known key raises InvalidSignatureError; no verified signature raises
    UnverifiedNoteError (carrying the parsed note); bad structure raises MalformedError.
    """
    if isinstance(msg, str):
        msg = msg.encode()
    try:
        text_all = msg.decode("utf-8")
    except UnicodeDecodeError as e:
        raise MalformedError("malformed note: not UTF-8") from e
    # Must be valid UTF-8 with no ASCII control characters other than newline.
    _check_chars(text_all)
    # Must end with a signature block preceded by a blank line.
    split = text_all.rfind("\n\n")
    if split < 0:
        raise MalformedError("malformed note: no signature block")
    text, sigs = text_all[: split + 1], text_all[split + 2 :]
    if not sigs.endswith("\n"):
        raise MalformedError("malformed note: signature block must end in a newline")

    known: dict[tuple[str, int], list[Verifier]] = {}
    for v in verifiers:
        known.setdefault((v.name, v.key_id), []).append(v)

    verified: list[Signature] = []
    unverified: list[Signature] = []
    seen: set[tuple[str, int]] = set()
    seen_unverified: set[str] = set()
    lines = sigs[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise MalformedError("malformed note: too many signatures")
    for line in lines:
        if not line.startswith(SIG_PREFIX):
            raise MalformedError("malformed note: signature line must start with an em dash")
        name, b64 = _chop(line[len(SIG_PREFIX) :], " ")
        if not is_valid_name(name) or not b64:
            raise MalformedError("malformed note: bad signature line")
        raw = _b64decode(b64)
        if len(raw) < 5:
            raise MalformedError("malformed note: signature too short")
        kid, sig = int.from_bytes(raw[:4], "big"), raw[4:]
        candidates = known.get((name, kid), [])
        if not candidates:
            if line not in seen_unverified:  # drop repeated identical lines
                seen_unverified.add(line)
                unverified.append(Signature(name, kid, b64))
            continue
        if len(candidates) > 1:
            raise SignatureError(f"ambiguous key {name}+{kid:08x}")
        if (name, kid) in seen:  # drop repeated signatures by one key
            continue
        seen.add((name, kid))
        if not candidates[0].verify(text.encode(), sig):
            raise InvalidSignatureError(name, kid)
        verified.append(Signature(name, kid, b64))

    note = Note(text, tuple(verified), tuple(unverified))
    if not verified:
        raise UnverifiedNoteError(note)
    return note


def _check_chars(s: str) -> None:
    if any(c < " " and c != "\n" for c in s):
        raise MalformedError("malformed note: control character")

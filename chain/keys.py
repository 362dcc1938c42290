"""The log's Ed25519 signing key, generated here and kept encrypted at rest.

Whoever holds the signing key can sign a forked history, so the key file on disk is
sealed with a passphrase: scrypt derives an AES-256-GCM key, and the whole envelope
header is authenticated data, so a swapped vkey or weakened KDF parameters are detected
the same way as a wrong passphrase. The envelope is small versioned JSON; the public
vkey is readable without the passphrase.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from Crypto.Cipher import AES
from Crypto.Protocol.KDF import scrypt
from Crypto.Random import get_random_bytes

from chain import note
from chain.canonical import canonical_json
from chain.errors import MalformedError, PassphraseError

ENVELOPE_FORMAT = "suanpan-signing-key/v1"
DEFAULT_SCRYPT_N = 2**15  # ~32 MiB with r=8: slow for guessing, fast enough at startup
MAX_SCRYPT_N = 2**20  # refuse envelopes that would make loading a denial of service


def generate_signing_key(name: str) -> tuple[str, str]:
    """Return a new (skey, vkey) pair for a log named ``name`` (the checkpoint origin)."""
    return note.generate_key(name)


def seal_signing_key(skey: str, passphrase: str, *, scrypt_n: int = DEFAULT_SCRYPT_N) -> str:
    """Encrypt a private key string under a passphrase; return the JSON envelope."""
    if not passphrase:
        raise ValueError("an empty passphrase would not protect the key")
    signer = note.new_signer(skey)  # refuse to seal something that is not a key
    salt, nonce = get_random_bytes(16), get_random_bytes(12)
    header: dict[str, Any] = {
        "format": ENVELOPE_FORMAT,
        "vkey": signer.verifier.vkey,
        "kdf": {"name": "scrypt", "n": scrypt_n, "r": 8, "p": 1, "salt": _b64(salt)},
        "cipher": {"name": "AES-256-GCM", "nonce": _b64(nonce)},
    }
    cipher = AES.new(_derive(passphrase, header), AES.MODE_GCM, nonce=nonce)
    cipher.update(canonical_json(header))
    ct, tag = cipher.encrypt_and_digest(skey.encode())
    return json.dumps({**header, "ciphertext": _b64(ct + tag)}, indent=2, sort_keys=True) + "\n"


def open_signing_key(envelope: str, passphrase: str) -> str:
    """Decrypt an envelope made by seal_signing_key and return the private key string."""
    header, blob = _parse(envelope)
    if len(blob) < 16:
        raise MalformedError("key envelope ciphertext too short")
    try:
        nonce = _unb64(header["cipher"]["nonce"])
        cipher = AES.new(_derive(passphrase, header), AES.MODE_GCM, nonce=nonce)
        cipher.update(canonical_json(header))
        skey = cipher.decrypt_and_verify(blob[:-16], blob[-16:]).decode()
    except ValueError as e:
        raise PassphraseError("wrong passphrase, or the key file was altered") from e
    if note.new_signer(skey).verifier.vkey != header["vkey"]:
        raise PassphraseError("decrypted key does not match the envelope's vkey")
    return skey


def load_signer(envelope: str, passphrase: str) -> note.Signer:
    """Decrypt an envelope straight into a note Signer."""
    return note.new_signer(open_signing_key(envelope, passphrase))


def envelope_vkey(envelope: str) -> str:
    """Return the public verifier key recorded in an envelope (no passphrase needed)."""
    return _parse(envelope)[0]["vkey"]


def _derive(passphrase: str, header: dict[str, Any]) -> bytes:
    kdf = header["kdf"]
    key = scrypt(passphrase.encode(), _unb64(kdf["salt"]), 32, N=kdf["n"], r=kdf["r"], p=kdf["p"])
    assert isinstance(key, bytes)
    return key


def _parse(envelope: str) -> tuple[dict[str, Any], bytes]:
    try:
        data = json.loads(envelope)
        header = {k: data[k] for k in ("format", "vkey", "kdf", "cipher")}
        blob = _unb64(data["ciphertext"])
        kdf, cipher = header["kdf"], header["cipher"]
        ok = (
            header["format"] == ENVELOPE_FORMAT
            and set(data) == {*header, "ciphertext"}
            and kdf["name"] == "scrypt"
            and cipher["name"] == "AES-256-GCM"
            and all(type(kdf[k]) is int for k in ("n", "r", "p"))
            and 2 <= kdf["n"] <= MAX_SCRYPT_N
            and kdf["n"] & (kdf["n"] - 1) == 0
            and 1 <= kdf["r"] <= 32
            and 1 <= kdf["p"] <= 16
            and len(_unb64(kdf["salt"])) >= 16
            and len(_unb64(cipher["nonce"])) == 12
        )
    except (ValueError, KeyError, TypeError) as e:
        raise MalformedError("not a signing key envelope") from e
    if not ok:
        raise MalformedError(f"unsupported or malformed key envelope (want {ENVELOPE_FORMAT})")
    return header, blob


def _b64(b: bytes) -> str:
    return base64.b64encode(b).decode()


def _unb64(s: str) -> bytes:
    try:
        return base64.b64decode(s, validate=True)
    except binascii.Error as e:
        raise MalformedError("invalid base64 in key envelope") from e

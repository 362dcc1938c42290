#!/usr/bin/env python3
"""Verify a Suanpan ledger receipt offline. Standalone: Python 3.11+ and pycryptodome only.

Copy this one file anywhere; it does not import the Suanpan project. A receipt is JSON:

    {"leaf": "<canonical JSON text of the ledger event>",
     "proof": "<c2sp.org/tlog-proof@v1 text>",
     "vkey": "<log public key, name+hex8+base64>"}

    python3 verify_receipt.py RECEIPT.json [--vkey KEY]

--vkey pins the log key you obtained independently (recommended); without it the key
inside the receipt is trusted, and a warning says so. Exit 0 and "OK ..." if the leaf is
in the log at the signed tree head; otherwise exit 1 with what failed. Exit 2: bad input.

Re-implements, compactly: RFC 9162 §2.1 hashing and inclusion proof verification
(https://www.rfc-editor.org/rfc/rfc9162#section-2.1.3.2), C2SP signed-note Ed25519
verification (https://c2sp.org/signed-note), checkpoints (https://c2sp.org/tlog-checkpoint)
and proofs (https://c2sp.org/tlog-proof).
"""

from __future__ import annotations

import argparse
import base64
import binascii
import hashlib
import json
import sys

from Crypto.Signature import eddsa

HEADER = "c2sp.org/tlog-proof@v1"


class Fail(Exception):
    """Verification failed; the message says which check."""


def b64(s: str, what: str, size: int | None = None) -> bytes:
    try:
        data = base64.b64decode(s, validate=True)
    except (binascii.Error, ValueError):
        raise Fail(f"malformed: {what} is not base64") from None
    if size is not None and (len(data) != size or base64.b64encode(data).decode() != s):
        raise Fail(f"malformed: {what} is not a canonical {size}-byte value")
    return data


def decimal(s: str, what: str) -> int:
    if not (s.isascii() and s.isdigit() and str(int(s)) == s):
        raise Fail(f"malformed: {what} {s!r} is not a canonical decimal")
    return int(s)


def parse_vkey(vkey: str) -> tuple[str, bytes, bytes]:
    """Return (name, 4-byte key id, 32-byte Ed25519 public key)."""
    parts = vkey.split("+", 2)
    if len(parts) != 3 or len(parts[1]) != 8 or not parts[0]:
        raise Fail("malformed: vkey is not name+hex8+base64")
    try:
        kid = bytes.fromhex(parts[1])
    except ValueError:
        raise Fail("malformed: vkey key id is not hex") from None
    name, key = parts[0], b64(parts[2], "vkey key")
    if len(key) != 33 or key[0] != 0x01:
        raise Fail("malformed: vkey is not an Ed25519 key")
    if hashlib.sha256(name.encode() + b"\n" + key).digest()[:4] != kid:
        raise Fail("malformed: vkey key id does not match its key")
    return name, kid, key[1:]


def open_checkpoint(note: str, vkey: str) -> tuple[str, int, bytes]:
    """Check the note's signature by vkey; return (origin, size, root)."""
    name, kid, pub = parse_vkey(vkey)
    if any(c < " " and c != "\n" for c in note):
        raise Fail("malformed: checkpoint has control characters")
    split = note.rfind("\n\n")
    if split < 0 or not note.endswith("\n"):
        raise Fail("malformed: checkpoint is not a signed note")
    text, sigs = note[: split + 1], note[split + 2 : -1].split("\n")
    signed = False
    for line in sigs:
        if not line.startswith("\u2014 ") or " " not in line[2:]:
            raise Fail("malformed: bad signature line in checkpoint")
        sig_name, sig64 = line[2:].split(" ", 1)
        sig = b64(sig64, "signature")
        if len(sig) < 5:
            raise Fail("malformed: signature too short")
        if sig_name != name or sig[:4] != kid:
            continue  # someone else's signature (e.g. a witness): ignore
        try:
            eddsa.new(eddsa.import_public_key(pub), "rfc8032").verify(text.encode(), sig[4:])
        except ValueError:
            raise Fail(f"signature: checkpoint signature by {name} is INVALID") from None
        signed = True
    if not signed:
        raise Fail(f"signature: checkpoint carries no signature by {name}+{kid.hex()}")
    lines = text[:-1].split("\n")
    if len(lines) < 3 or not lines[0]:
        raise Fail("malformed: checkpoint body")
    return lines[0], decimal(lines[1], "tree size"), b64(lines[2], "root", 32)


def node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def root_from_proof(index: int, size: int, leaf_hash: bytes, path: list[bytes]) -> bytes:
    """RFC 9162 §2.1.3.2: recompute the root from an inclusion proof."""
    if index >= size:
        raise Fail(f"proof: index {index} is not below tree size {size}")
    fn, sn, r = index, size - 1, leaf_hash
    for p in path:
        if sn == 0:
            raise Fail("proof: inclusion proof has too many hashes")
        if fn % 2 == 1 or fn == sn:
            r = node(p, r)
            while fn % 2 == 0 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node(r, p)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise Fail("proof: inclusion proof has too few hashes")
    return r


def verify(leaf: bytes, proof: str, vkey: str) -> tuple[int, int, str]:
    """Return (index, size, origin) or raise Fail."""
    head, sep, note = proof.partition("\n\n")
    lines = head.split("\n")
    if not sep or lines[0] != HEADER:
        raise Fail(f"malformed: proof is not {HEADER} text")
    extra = b64(lines.pop(1)[6:], "extra") if lines[1:2] and lines[1].startswith("extra ") else None
    if len(lines) < 2 or not lines[1].startswith("index "):
        raise Fail("malformed: proof has no index line")
    index = decimal(lines[1][6:], "index")
    path = [b64(h, "proof hash", 32) for h in lines[2:]]
    origin, size, root = open_checkpoint(note, vkey)
    leaf_hash = hashlib.sha256(b"\x00" + leaf).digest()
    if root_from_proof(index, size, leaf_hash, path) != root:
        if extra is not None and len(extra) == 32 and extra != leaf_hash:
            raise Fail("leaf: this leaf is not the one the receipt was issued for")
        raise Fail("proof: inclusion proof does not lead to the signed root")
    return index, size, origin


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Verify a Suanpan ledger receipt offline.")
    ap.add_argument("receipt", help="receipt JSON file, or - for stdin")
    ap.add_argument("--vkey", help="log public key to trust (overrides the receipt's)")
    args = ap.parse_args(argv)
    try:
        with sys.stdin if args.receipt == "-" else open(args.receipt, encoding="utf-8") as f:
            receipt = json.load(f)
        leaf, proof = receipt["leaf"].encode(), receipt["proof"]
        vkey = args.vkey or receipt["vkey"]
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as e:
        print(f"FAILED malformed: cannot read receipt: {e}", file=sys.stderr)
        return 2
    if not args.vkey:
        print(
            "WARNING: trusting the log key inside the receipt; pin it with --vkey", file=sys.stderr
        )
    elif receipt.get("vkey") not in (None, args.vkey):
        print("WARNING: the receipt names a different log key than --vkey", file=sys.stderr)
    try:
        index, size, origin = verify(leaf, proof, vkey)
    except Fail as e:
        print(f"FAILED {e}", file=sys.stderr)
        return 1
    print(f"OK index={index} size={size} origin={origin}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

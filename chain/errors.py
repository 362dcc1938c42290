"""Typed errors for the chain package.

Callers (the app, an auditor, scripts) need to say *what* failed, not just that something
did: a malformed input is a bug or an attack on the parser, a failed proof means the log
and the claim disagree, a bad signature means the claim was not issued by the key we trust.
Every error derives from ``ChainError`` so "any verification failure" is one ``except``.
"""

from __future__ import annotations


class ChainError(Exception):
    """Base class of every error raised by ``chain``."""


class MalformedError(ChainError, ValueError):
    """Input text or bytes do not follow the expected format (note, checkpoint, proof, key)."""


class ProofError(ChainError):
    """A Merkle inclusion or consistency proof does not verify."""


class LeafMismatchError(ProofError):
    """The leaf presented is not the one the receipt was issued for."""


class SignatureError(ChainError):
    """A signed note could not be authenticated."""


class UnverifiedNoteError(SignatureError):
    """The note parsed, but no signature came from a trusted key.

    The parsed note is kept on ``.note`` (as Go's note.UnverifiedNoteError does) so that
    callers can still inspect the text and the unverified signatures.
    """

    def __init__(self, note: object) -> None:
        super().__init__("note has no verifiable signatures")
        self.note = note


class InvalidSignatureError(SignatureError):
    """A signature from a trusted key did not verify: the signed text was altered."""

    def __init__(self, name: str, key_id: int) -> None:
        super().__init__(f"invalid signature for key {name}+{key_id:08x}")
        self.name = name
        self.key_id = key_id


class PassphraseError(ChainError):
    """An encrypted key could not be opened: wrong passphrase or a corrupted envelope."""


class StorageError(ChainError):
    """A HashReader returned a result inconsistent with the request."""


class BrokenChainError(ChainError):
    """A sequence of block headers does not form a valid hash chain."""

    def __init__(self, height: int, reason: str) -> None:
        super().__init__(f"block {height}: {reason}")
        self.height = height
        self.reason = reason

"""The node's log signing key: generated on first use, kept encrypted in instance/.

One Ed25519 key signs every business's checkpoints (origin ``<CHAIN_ORIGIN>/<business id>``).
The private key never leaves the encrypted envelope file (chain.keys: scrypt + AES-GCM, with
CHAIN_KEY_PASSPHRASE from instance/secrets.json or the environment); the public verifier key
is readable without the passphrase, so web workers that only publish it never decrypt.
Decrypting costs one scrypt run, so the signer is opened lazily and cached per process.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from pathlib import Path

from chain import note
from chain.keys import envelope_vkey, generate_signing_key, load_signer, seal_signing_key


@dataclass
class KeyRing:
    """Where the key lives and how to open it; one per process, configured by create_app."""

    path: Path | None = None
    passphrase: str = ""
    name: str = "suanpan.local/chain"
    scrypt_n: int = 2**15
    _signer: note.Signer | None = field(default=None, repr=False)
    _vkey: str | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def configure(self, path: Path, passphrase: str, name: str, scrypt_n: int) -> None:
        """Point at a (possibly not yet existing) key file; forget any cached key."""
        with self._lock:
            self.path, self.passphrase, self.name, self.scrypt_n = path, passphrase, name, scrypt_n
            self._signer = self._vkey = None

    def vkey(self) -> str:
        """The verifier key (``<name>+<hex id>+<base64>``); creates the key on first use."""
        if self._vkey is None:
            self._vkey = envelope_vkey(self._envelope())
        return self._vkey

    def verifier(self) -> note.Verifier:
        return note.new_verifier(self.vkey())

    def signer(self) -> note.Signer:
        """The private signer (decrypts the envelope once per process)."""
        with self._lock:
            if self._signer is None:
                self._signer = load_signer(self._envelope(), self.passphrase)
                self._vkey = self._signer.verifier.vkey
            return self._signer

    def ensure(self) -> str:
        """Create the key file if absent; return the vkey. Safe when workers race."""
        return self.vkey()

    def _envelope(self) -> str:
        if self.path is None:
            raise RuntimeError("chain keys are not configured (create_app does this)")
        try:
            return self.path.read_text()
        except FileNotFoundError:
            pass
        skey, _ = generate_signing_key(self.name)
        envelope = seal_signing_key(skey, self.passphrase, scrypt_n=self.scrypt_n)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.{threading.get_ident()}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(envelope)
        try:
            os.link(tmp, self.path)  # atomic and refuses to overwrite: the first writer wins
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
        return self.path.read_text()


keyring = KeyRing()

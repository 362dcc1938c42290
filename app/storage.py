"""Where receipt images live: content-addressed blobs behind a small interface.

Keys are derived from the SHA-256 of the content, so the same image is stored once and a stored
file can be checked against its name. `LocalStorage` keeps them under instance/; an object store
(S3, OSS, COS) can implement the same three methods later without touching the services.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import Protocol


class BlobStorage(Protocol):
    def put(self, data: bytes, suffix: str) -> str:
        """Store `data`; return its key (`<sha256><suffix>`). Storing twice is harmless."""
        ...

    def get(self, key: str) -> bytes:
        """The stored bytes; KeyError when there is no such blob."""
        ...

    def exists(self, key: str) -> bool: ...


def blob_key(data: bytes, suffix: str) -> str:
    return hashlib.sha256(data).hexdigest() + suffix


class LocalStorage:
    """Files under `root/<first two hex digits>/<key>`, written atomically (temp file + rename)."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        if not key or "/" in key or "\\" in key or key.startswith("."):
            raise KeyError(key)
        return self.root / key[:2] / key

    def put(self, data: bytes, suffix: str) -> str:
        key = blob_key(data, suffix)
        path = self._path(key)
        if path.exists():
            return key
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return key

    def get(self, key: str) -> bytes:
        path = self._path(key)
        try:
            return path.read_bytes()
        except FileNotFoundError:
            raise KeyError(key) from None

    def exists(self, key: str) -> bool:
        try:
            return self._path(key).exists()
        except KeyError:
            return False

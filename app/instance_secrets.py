"""Secrets generated on first run into instance/secrets.json (git-ignored, mode 0600).

Several gunicorn workers may start at once; the file is created with O_EXCL so exactly one of
them writes it and the others read what it wrote.
"""

from __future__ import annotations

import json
import os
import secrets
import time
from pathlib import Path

NAMES = ("SECRET_KEY", "JWT_SECRET_KEY", "CHAIN_KEY_PASSPHRASE")


def load_or_create(instance_path: str) -> dict[str, str]:
    path = Path(instance_path) / "secrets.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        for _ in range(50):
            text = path.read_text()
            if text.strip():
                data = json.loads(text)
                break
            time.sleep(0.05)  # another process is writing it right now
        else:
            raise RuntimeError(f"{path} is empty; delete it to regenerate secrets") from None
        missing = [n for n in NAMES if n not in data]
        if missing:
            data.update({n: secrets.token_urlsafe(48) for n in missing})
            tmp = path.with_suffix(".tmp")
            tmp.write_text(json.dumps(data, indent=2))
            os.chmod(tmp, 0o600)
            tmp.replace(path)
        return data
    data = {n: secrets.token_urlsafe(48) for n in NAMES}
    with os.fdopen(fd, "w") as fh:
        fh.write(json.dumps(data, indent=2))
    return data

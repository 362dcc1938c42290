"""Helpers for the receipt and claim tests: a business with an owner, a bookkeeper, an employee
and a viewer, and multipart uploads through the real HTTP API."""

from __future__ import annotations

import io
import uuid
from typing import Any

from tests.conftest import Api, join, new_business, register


def multipart(parts: dict[str, tuple[str, bytes]]) -> tuple[bytes, str]:
    """Encode form parts ourselves: Werkzeug's test client spools large bodies to a temporary
    file it never closes (a ResourceWarning, an error under filterwarnings=error)."""
    boundary = uuid.uuid4().hex
    out = io.BytesIO()
    for field, (filename, content) in parts.items():
        out.write(f"--{boundary}\r\n".encode())
        out.write(
            f'Content-Disposition: form-data; name="{field}"; filename="{filename}"\r\n'.encode()
        )
        out.write(b"Content-Type: application/octet-stream\r\n\r\n")
        out.write(content + b"\r\n")
    out.write(f"--{boundary}--\r\n".encode())
    return out.getvalue(), f"multipart/form-data; boundary={boundary}"


def upload(  # type: ignore[no-untyped-def]
    api: Api,
    bid: int,
    data: bytes,
    token: str,
    name: str = "photo.jpg",
    field: str = "file",
    headers: dict[str, str] | None = None,
):
    body, ctype = multipart({field: (name, data)})
    return api.post(
        f"/businesses/{bid}/receipts",
        data=body,
        token=token,
        headers={"Content-Type": ctype, **(headers or {})},
    )


def team(api: Api, taxpayer_type: str = "small_scale") -> dict[str, Any]:
    owner = register(api, "olivia")
    biz = new_business(api, owner["access_token"], taxpayer_type=taxpayer_type)
    bid = biz["id"]
    return {
        "bid": bid,
        "business": biz,
        "owner": owner["access_token"],
        "owner_id": owner["user_id"],
        "bookkeeper": join(api, owner["access_token"], bid, "bookkeeper", "bob"),
        "employee": join(api, owner["access_token"], bid, "employee", "emma"),
        "employee2": join(api, owner["access_token"], bid, "employee", "eddie"),
        "viewer": join(api, owner["access_token"], bid, "viewer", "vera"),
    }

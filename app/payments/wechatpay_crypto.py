"""WeChat Pay API v3 signatures and callback decryption (china-facts §9.1-9.3), with pycryptodome.

- Requests: SHA256withRSA (PKCS#1 v1.5) over `METHOD\\nURL\\nTIMESTAMP\\nNONCE\\nBODY\\n` with the
  merchant API private key, sent as `WECHATPAY2-SHA256-RSA2048 mchid=..,...`.
- Responses and callbacks: the same over `TIMESTAMP\\nNONCE\\nBODY\\n` (the raw body), verified
  with the platform's public key (never the merchant's). `WECHATPAY/SIGNTEST/` probes fail.
- Stale timestamps are refused (±MAX_SKEW seconds): WeChat does not require it, we do, so a
  captured callback cannot be replayed later; a replay within the window is refused by the
  notification id (app.payments.wechatpay).
- Callback resources: AEAD_AES_256_GCM with the 32-byte APIv3 key; the tag is the last 16 bytes.
- Sensitive request fields (a transfer's `user_name`, §9.5): RSAES-OAEP with SHA-1 and MGF1-SHA-1
  under the platform public key (what wechatpayv3's `rsa_encrypt` and the official SDKs use), sent
  with `Wechatpay-Serial` naming that key so WeChat Pay knows which private key decrypts it.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Mapping

from Crypto.Cipher import AES, PKCS1_OAEP
from Crypto.Hash import SHA1, SHA256
from Crypto.PublicKey import RSA
from Crypto.Signature import pkcs1_15

SIGNATURE_TYPE = "WECHATPAY2-SHA256-RSA2048"
MAX_SKEW = 300


class SignatureError(ValueError):
    """A response or callback that must not be trusted."""


def rsa_sign(private_key: RSA.RsaKey, message: str) -> str:
    return base64.b64encode(pkcs1_15.new(private_key).sign(SHA256.new(message.encode()))).decode()


def rsa_verify(public_key: RSA.RsaKey, message: str, signature: str) -> bool:
    try:
        raw = base64.b64decode(signature, validate=True)
        pkcs1_15.new(public_key).verify(SHA256.new(message.encode()), raw)
        return True
    except (ValueError, TypeError):
        return False


def request_message(method: str, url: str, timestamp: str, nonce: str, body: str) -> str:
    return f"{method}\n{url}\n{timestamp}\n{nonce}\n{body}\n"


def authorization(
    mchid: str,
    serial_no: str,
    private_key: RSA.RsaKey,
    method: str,
    url: str,
    body: str,
    timestamp: int,
    nonce: str | None = None,
) -> str:
    """The Authorization header for one request (url: path and query, no host)."""
    nonce = nonce or secrets.token_hex(16).upper()
    sig = rsa_sign(private_key, request_message(method, url, str(timestamp), nonce, body))
    return (
        f'{SIGNATURE_TYPE} mchid="{mchid}",nonce_str="{nonce}",signature="{sig}",'
        f'timestamp="{timestamp}",serial_no="{serial_no}"'
    )


def parse_authorization(header: str) -> dict[str, str]:
    """The fields of an Authorization header (any order), for the fake server and tests."""
    scheme, _, rest = header.partition(" ")
    if scheme != SIGNATURE_TYPE:
        raise SignatureError(f"unknown scheme {scheme!r}")
    out = {}
    for part in rest.split(","):
        key, _, value = part.strip().partition("=")
        out[key] = value.strip('"')
    return out


def _header(headers: Mapping[str, str], name: str) -> str:
    for key, value in headers.items():
        if key.lower() == name.lower():
            return value
    raise SignatureError(f"missing header {name}")


def verify(
    headers: Mapping[str, str],
    body: bytes,
    public_key: RSA.RsaKey,
    public_key_id: str,
    now: int,
    max_skew: int = MAX_SKEW,
) -> None:
    """Check a response or callback's WeChat Pay signature and freshness; raise if not good."""
    kind = headers.get("Wechatpay-Signature-Type") or _header(headers, "Wechatpay-Signature-Type")
    if kind != SIGNATURE_TYPE:
        raise SignatureError(f"unsupported signature type {kind!r}")
    serial = _header(headers, "Wechatpay-Serial")
    if serial != public_key_id:
        raise SignatureError(f"signed with an unknown key {serial!r}")
    signature = _header(headers, "Wechatpay-Signature")
    if signature.startswith("WECHATPAY/SIGNTEST/"):
        raise SignatureError("a signature probe, not a real message")
    timestamp = _header(headers, "Wechatpay-Timestamp")
    if not timestamp.isdigit() or abs(now - int(timestamp)) > max_skew:
        raise SignatureError("timestamp missing or more than 5 minutes away: stale or replayed")
    nonce = _header(headers, "Wechatpay-Nonce")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise SignatureError("body is not UTF-8") from None
    if not rsa_verify(public_key, f"{timestamp}\n{nonce}\n{text}\n", signature):
        raise SignatureError("signature does not verify with the platform key")


def response_headers(
    private_key: RSA.RsaKey, key_id: str, body: str, timestamp: int, nonce: str | None = None
) -> dict[str, str]:
    """Sign as WeChat Pay does (used by the fake server in tests)."""
    nonce = nonce or secrets.token_hex(16)
    return {
        "Wechatpay-Timestamp": str(timestamp),
        "Wechatpay-Nonce": nonce,
        "Wechatpay-Serial": key_id,
        "Wechatpay-Signature": rsa_sign(private_key, f"{timestamp}\n{nonce}\n{body}\n"),
        "Wechatpay-Signature-Type": SIGNATURE_TYPE,
    }


def decrypt_resource(resource: Mapping[str, str], apiv3_key: bytes) -> bytes:
    """AEAD_AES_256_GCM: raises SignatureError when the ciphertext or its data was altered."""
    if resource.get("algorithm") != "AEAD_AES_256_GCM":
        raise SignatureError(f"unsupported algorithm {resource.get('algorithm')!r}")
    if len(apiv3_key) != 32:
        raise SignatureError("the APIv3 key must be 32 bytes")
    try:
        raw = base64.b64decode(resource["ciphertext"], validate=True)
        nonce = resource["nonce"].encode()
        ad = (resource.get("associated_data") or "").encode()
    except (KeyError, ValueError, AttributeError):
        raise SignatureError("malformed resource") from None
    if len(raw) < 17:
        raise SignatureError("ciphertext too short")
    cipher = AES.new(apiv3_key, AES.MODE_GCM, nonce=nonce)
    cipher.update(ad)
    try:
        return cipher.decrypt_and_verify(raw[:-16], raw[-16:])
    except ValueError:
        raise SignatureError("ciphertext or associated data was altered") from None


def encrypt_resource(plaintext: bytes, apiv3_key: bytes, nonce: str, ad: str) -> dict[str, str]:
    """The inverse of decrypt_resource (the fake server's side)."""
    cipher = AES.new(apiv3_key, AES.MODE_GCM, nonce=nonce.encode())
    cipher.update(ad.encode())
    ct, tag = cipher.encrypt_and_digest(plaintext)
    return {
        "algorithm": "AEAD_AES_256_GCM",
        "ciphertext": base64.b64encode(ct + tag).decode(),
        "associated_data": ad,
        "nonce": nonce,
    }


def rsa_encrypt(public_key: RSA.RsaKey, text: str) -> str:
    """A sensitive field for WeChat Pay: OAEP (SHA-1, MGF1-SHA-1) under its public key, base64.

    OAEP is randomised, so the same name encrypts differently each time; only the holder of the
    platform private key (WeChat Pay, or the fake server in tests) can read it.
    """
    cipher = PKCS1_OAEP.new(public_key, hashAlgo=SHA1)
    return base64.b64encode(cipher.encrypt(text.encode("utf-8"))).decode()


def rsa_decrypt(private_key: RSA.RsaKey, ciphertext: str) -> str:
    """The inverse of rsa_encrypt (WeChat Pay's side; the fake server uses it)."""
    try:
        raw = base64.b64decode(ciphertext, validate=True)
        return PKCS1_OAEP.new(private_key, hashAlgo=SHA1).decrypt(raw).decode("utf-8")
    except (ValueError, TypeError, UnicodeDecodeError):
        raise SignatureError("the field does not decrypt with the platform key") from None

"""A stand-in for api.mch.weixin.qq.com (WeChat Pay API v3), as a real HTTP server on loopback.

It checks our requests as WeChat Pay does (china-facts §9.1): the Authorization header's
SHA256withRSA signature over `METHOD\\nURL\\nTIMESTAMP\\nNONCE\\nBODY\\n` with the merchant's public
key, the merchant id, the serial and a timestamp within 5 minutes; a bad one gets 401 SIGN_ERROR.
Every answer is signed with the platform key (§9.2). `transfer-bills` is idempotent by
`out_bill_no`, as the real one is; `fail_next` makes the next calls answer 500 SYSTEM_ERROR.

Transfers (§9.5): a bill starts WAIT_USER_CONFIRM; `confirm` / `reject` play the payee, and
the bill's state is what `GET .../out-bill-no/{no}` answers and `POST .../cancel` changes (only
before the payee confirms). From 2,000 yuan the request must carry `user_name`, RSA-OAEP
encrypted with the platform key and announced by `Wechatpay-Serial`; the fake decrypts it and
fails the transfer (NAME_NOT_CORRECT) when it is not the payee's real name (`real_names`).

It also builds the notifications WeChat Pay sends (§9.3): signed with the platform key, the
resource encrypted with AEAD_AES_256_GCM under the APIv3 key; and forged ones for the tests.
`deliver` POSTs one over HTTP to the bill's `notify_url`, as WeChat Pay does, and re-sends it
(a few quick retries here; WeChat's own schedule is 15 s up to hours) until it is acknowledged
with a 2xx; `notify_down` makes a confirmation happen without any notification arriving.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from Crypto.PublicKey import RSA

from app.payments.wechatpay_crypto import (
    SignatureError,
    encrypt_resource,
    parse_authorization,
    request_message,
    response_headers,
    rsa_decrypt,
    rsa_verify,
)

TRANSFER = "/v3/fund-app/mch-transfer/transfer-bills"
JSAPI = "/v3/pay/transactions/jsapi"


class FakeWeChatPay:
    def __init__(self, mchid: str = "1900000109", serial_no: str = "MERCHANT-SERIAL-1") -> None:
        self.mchid = mchid
        self.serial_no = serial_no
        self.merchant_key = RSA.generate(2048)  # the test's merchant key pair
        self.platform_key = RSA.generate(2048)  # WeChat Pay's signing key
        self.platform_key_id = "PUB_KEY_ID_0114232134912410000000000000"
        self.apiv3_key = secrets.token_hex(16).encode()  # 32 bytes
        self.bills: dict[str, dict[str, Any]] = {}
        self.orders: dict[str, dict[str, Any]] = {}
        self.requests: list[dict[str, Any]] = []
        self.refused: list[str] = []
        self.fail_next = 0
        self.real_names: dict[str, str] = {}  # openid -> the payee's real name
        self.deliveries: list[dict[str, Any]] = []  # notifications sent: url, status, attempts
        self.notify_down = False  # True: events happen, but no notification is sent
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                length = int(self.headers.get("Content-Length") or 0)
                self._answer("POST", self.rfile.read(length).decode())

            def do_GET(self) -> None:  # noqa: N802
                self._answer("GET", "")

            def _answer(self, method: str, body: str) -> None:
                status, answer = fake.handle(method, self.path, dict(self.headers), body)
                raw = json.dumps(answer, ensure_ascii=False)
                self.send_response(status)
                for k, v in response_headers(
                    fake.platform_key, fake.platform_key_id, raw, int(time.time())
                ).items():
                    self.send_header(k, v)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw.encode())))
                self.end_headers()
                self.wfile.write(raw.encode())

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeWeChatPay:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def app_config(
        self, notify_url: str = "https://example.invalid/api/v1/payments/wechatpay/notify"
    ) -> dict[str, str]:
        """What our app needs to talk to this server (keys inline: nothing written to disk)."""
        return {
            "WECHATPAY_MCHID": self.mchid,
            "WECHATPAY_APPID": "wx-test-app",
            "WECHATPAY_SERIAL_NO": self.serial_no,
            "WECHATPAY_PRIVATE_KEY": self.merchant_key.export_key().decode(),
            "WECHATPAY_PUBLIC_KEY": self.platform_key.public_key().export_key().decode(),
            "WECHATPAY_PUBLIC_KEY_ID": self.platform_key_id,
            "WECHATPAY_APIV3_KEY": self.apiv3_key.decode(),
            "WECHATPAY_API_BASE": self.base_url,
            "WECHATPAY_NOTIFY_URL": notify_url,
            "WECHATPAY_TIMEOUT_SECONDS": "5",
        }

    # --- requests -------------------------------------------------------------------------

    def _check_signature(self, method: str, path: str, headers: dict[str, str], body: str) -> str:
        try:
            auth = parse_authorization(headers.get("Authorization", ""))
        except SignatureError as e:
            return str(e)
        if auth.get("mchid") != self.mchid or auth.get("serial_no") != self.serial_no:
            return "wrong mchid or serial_no"
        ts = auth.get("timestamp", "")
        if not ts.isdigit() or abs(time.time() - int(ts)) > 300:
            return "timestamp与发起请求的时间不得超过5分钟"
        message = request_message(method, path, ts, auth.get("nonce_str", ""), body)
        if not rsa_verify(self.merchant_key.public_key(), message, auth.get("signature", "")):
            return "签名错误"
        return ""

    def handle(
        self, method: str, path: str, headers: dict[str, str], body: str
    ) -> tuple[int, dict[str, Any]]:
        problem = self._check_signature(method, path, headers, body)
        self.requests.append({"path": path, "body": body, "signature_ok": not problem})
        if problem:
            self.refused.append(problem)
            return 401, {"code": "SIGN_ERROR", "message": problem}
        if self.fail_next > 0:
            self.fail_next -= 1
            return 500, {"code": "SYSTEM_ERROR", "message": "系统繁忙，请稍后重试"}
        if method == "GET":
            return self._query(path)
        if path.startswith(TRANSFER + "/out-bill-no/") and path.endswith("/cancel"):
            return self._cancel(
                path.removeprefix(TRANSFER + "/out-bill-no/").removesuffix("/cancel")
            )
        req = json.loads(body)
        if path == JSAPI:
            if req.get("mchid") != self.mchid:
                return 400, {"code": "PARAM_ERROR", "message": "mchid"}
            order = self.orders.setdefault(
                req["out_trade_no"], {**req, "prepay_id": "wx" + secrets.token_hex(14)}
            )
            return 200, {"prepay_id": order["prepay_id"]}
        if path != TRANSFER:
            return 404, {"code": "NOT_FOUND", "message": path}
        no = req["out_bill_no"]
        if no not in self.bills:  # idempotent by out_bill_no, like the real one
            problem = self._check_user_name(req, headers)
            if problem:
                return 400, {"code": "PARAM_ERROR", "message": problem}
            state, reason = "WAIT_USER_CONFIRM", ""
            if "user_name" in req:
                name = rsa_decrypt(self.platform_key, req["user_name"])
                if self.real_names.get(req["openid"]) != name:
                    state, reason = "FAIL", "NAME_NOT_CORRECT"
            self.bills[no] = {
                "out_bill_no": no,
                "transfer_bill_no": "13300000711009999911820200507" + secrets.token_hex(5),
                "create_time": "2026-03-01T10:00:00+08:00",
                "state": state,
                "fail_reason": reason,
                "package_info": "affffddafdfafddffda==",
                "amount": req["transfer_amount"],
                "openid": req["openid"],
                "user_name": req.get("user_name"),
                "notify_url": req.get("notify_url", ""),
            }
        bill = self.bills[no]
        answer = {k: bill[k] for k in ("out_bill_no", "transfer_bill_no", "create_time", "state")}
        if bill["state"] == "WAIT_USER_CONFIRM":
            answer["package_info"] = bill["package_info"]
        if bill["fail_reason"]:
            answer["fail_reason"] = bill["fail_reason"]
        return 200, answer

    def _check_user_name(self, req: dict[str, Any], headers: dict[str, str]) -> str:
        if "user_name" not in req:
            return "转账金额>=2000元时，user_name必填" if req["transfer_amount"] >= 200_000 else ""
        if headers.get("Wechatpay-Serial") != self.platform_key_id:
            return "Wechatpay-Serial 与加密用的公钥不符"
        try:
            rsa_decrypt(self.platform_key, req["user_name"])
        except SignatureError:
            return "user_name 解密失败"
        return ""

    def _query(self, path: str) -> tuple[int, dict[str, Any]]:
        no = path.removeprefix(TRANSFER + "/out-bill-no/")
        bill = self.bills.get(no) if path.startswith(TRANSFER + "/out-bill-no/") else None
        if bill is None:
            return 404, {"code": "NOT_FOUND", "message": "记录不存在"}
        answer = {
            "mch_id": self.mchid,
            "appid": "wx-test-app",
            "transfer_amount": bill["amount"],
            "openid": bill["openid"],
            "update_time": "2026-03-01T10:05:00+08:00",
            **{k: bill[k] for k in ("out_bill_no", "transfer_bill_no", "create_time", "state")},
        }
        if bill["fail_reason"]:
            answer["fail_reason"] = bill["fail_reason"]
        return 200, answer

    def _cancel(self, no: str) -> tuple[int, dict[str, Any]]:
        bill = self.bills.get(no)
        if bill is None:
            return 404, {"code": "NOT_FOUND", "message": "记录不存在"}
        if bill["state"] not in ("ACCEPTED", "WAIT_USER_CONFIRM", "CANCELLED"):
            return 400, {"code": "INVALID_REQUEST", "message": f"当前状态{bill['state']}不可撤销"}
        bill["state"] = "CANCELLED"
        return 200, {
            "out_bill_no": no,
            "transfer_bill_no": bill["transfer_bill_no"],
            "state": "CANCELLED",
            "update_time": "2026-03-01T10:06:00+08:00",
        }

    # --- the payee ----------------------------------------------------------------------

    def confirm(self, out_bill_no: str, state: str = "SUCCESS") -> int | None:
        """The payee confirms in the mini program (or the transfer fails): the bill takes
        `state` and WeChat Pay notifies `notify_url` over HTTP, unless `notify_down`.
        Returns the HTTP status our server finally answered (None: nothing was sent)."""
        bill = self.bills[out_bill_no]
        if bill["state"] != "WAIT_USER_CONFIRM":
            raise AssertionError(f"bill {out_bill_no} is {bill['state']}, not waiting")
        bill["state"] = state
        if state == "FAIL":
            bill["fail_reason"] = "PAYEE_ACCOUNT_ABNORMAL"
        if self.notify_down or state not in ("SUCCESS", "FAIL", "CANCELLED"):
            return None  # WeChat notifies final states only (TRANSFERING: still moving)
        headers, body = self.transfer_finished(out_bill_no, state)
        return self.deliver(bill["notify_url"], headers, body)

    def deliver(self, url: str, headers: dict[str, str], body: bytes, attempts: int = 3) -> int:
        """POST a notification to our server, re-sending on anything but 2xx, as WeChat does."""
        status = 0
        for attempt in range(1, attempts + 1):
            status = self.send(url, headers, body)
            if 200 <= status < 300:
                break
            time.sleep(0.05 * attempt)
        self.deliveries.append(
            {"url": url, "status": status, "attempts": attempt, "headers": headers, "body": body}
        )
        return status

    # --- notifications ------------------------------------------------------------------

    def notification(
        self,
        event_type: str,
        resource: dict[str, Any],
        *,
        notice_id: str | None = None,
        timestamp: int | None = None,
        signing_key: RSA.RsaKey | None = None,
        tamper: bool = False,
    ) -> tuple[dict[str, str], bytes]:
        """A notification as WeChat Pay sends it: (headers, raw body)."""
        nonce = secrets.token_hex(6)  # 12 characters
        enc = encrypt_resource(
            json.dumps(resource, ensure_ascii=False).encode(), self.apiv3_key, nonce, "transaction"
        )
        if tamper:
            ct = bytearray(enc["ciphertext"].encode())
            ct[5] = ord("A") if ct[5] != ord("A") else ord("B")
            enc["ciphertext"] = ct.decode()
        envelope = {
            "id": notice_id or secrets.token_hex(16),
            "create_time": "2026-03-01T10:00:00+08:00",
            "event_type": event_type,
            "resource_type": "encrypt-resource",
            "summary": "通知",
            "resource": {"original_type": "transaction", **enc},
        }
        raw = json.dumps(envelope, ensure_ascii=False)
        headers = response_headers(
            signing_key or self.platform_key,
            self.platform_key_id,
            raw,
            timestamp if timestamp is not None else int(time.time()),
        )
        headers["Content-Type"] = "application/json"
        return headers, raw.encode()

    def transfer_finished(self, out_bill_no: str, state: str = "SUCCESS", **kw: Any):  # type: ignore[no-untyped-def]
        """The user confirmed (or not): MCHTRANSFER.BILL.FINISHED for that bill."""
        bill = self.bills[out_bill_no]
        bill["state"] = state
        resource = {
            "out_bill_no": out_bill_no,
            "transfer_bill_no": bill["transfer_bill_no"],
            "state": state,
            "mch_id": self.mchid,
            "transfer_amount": bill["amount"],
            "openid": bill["openid"],
            **({"fail_reason": bill["fail_reason"]} if bill.get("fail_reason") else {}),
        }
        return self.notification("MCHTRANSFER.BILL.FINISHED", resource, **kw)

    def transaction_success(
        self, out_trade_no: str, total: int, attach: str, openid: str = "o-payer", **kw: Any
    ):  # type: ignore[no-untyped-def]
        """A JSAPI payment succeeded: TRANSACTION.SUCCESS."""
        resource = {
            "mchid": self.mchid,
            "appid": "wx-test-app",
            "out_trade_no": out_trade_no,
            "transaction_id": "4200000000" + secrets.token_hex(5),
            "trade_type": "JSAPI",
            "trade_state": "SUCCESS",
            "attach": attach,
            "payer": {"openid": openid},
            "amount": {"total": total, "payer_total": total, "currency": "CNY"},
        }
        return self.notification("TRANSACTION.SUCCESS", resource, **kw)

    @staticmethod
    def send(url: str, headers: dict[str, str], body: bytes) -> int:
        """Deliver a notification over HTTP to a running server (status code back)."""
        req = urllib.request.Request(url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(req, timeout=5) as resp:
                return resp.status
        except urllib.error.HTTPError as e:
            return e.code
        except OSError:  # our server is down: WeChat sees a failed delivery
            return 0

"""Claims in the browser: an employee points a (fake) camera at a fapiao, the QR is read in the
page (BarcodeDetector where Chromium has it, else the bundled ZXing WebAssembly), the frame is
uploaded, the claim submitted; the bookkeeper sees the badge, approves and pays on the phone.

Chromium's fake camera plays a .y4m file made here from a Pillow image of a receipt with a QR
(y4m: a text header, then per frame "FRAME\\n" and the raw Y, U and V planes, 4:2:0). No request
may leave the test server: the WebAssembly decoder must come from our own bundle.
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from playwright.sync_api import expect

from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, PHONE, login, shot
from tests.receipt_images import SAMPLES, invoice_page

QR_TEXT = SAMPLES["digital_ordinary"].replace("24312000000136634917", "26312000000991234567")


def write_y4m(image: Image.Image, path: Path, frames: int = 4) -> None:
    """Raw 4:2:0 video frames of `image` (even width and height) in YUV4MPEG2."""
    w, h = image.size
    ycbcr = image.convert("YCbCr")
    y, cb, cr = ycbcr.split()
    half = (w // 2, h // 2)
    planes = y.tobytes() + cb.resize(half).tobytes() + cr.resize(half).tobytes()
    with open(path, "wb") as f:
        f.write(f"YUV4MPEG2 W{w} H{h} F10:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(frames):
            f.write(b"FRAME\n" + planes)


@pytest.fixture(scope="module")
def camera_browser(browser: Any, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A second Chromium with the fake camera, from the session's Playwright (one sync
    Playwright per thread)."""
    scene = Image.new("RGB", (1280, 720), (120, 100, 85))
    page = invoice_page(QR_TEXT, width=1000, qr_side=300)
    scene.paste(page, ((1280 - page.width) // 2, (720 - page.height) // 2))
    video = tmp_path_factory.mktemp("camera") / "fapiao.y4m"
    write_y4m(scene, video)
    args = CHROMIUM_ARGS + [
        "--use-fake-device-for-media-stream",
        "--use-fake-ui-for-media-stream",
        f"--use-file-for-fake-video-capture={video}",
    ]
    b = browser.browser_type.launch(executable_path=CHROMIUM, headless=True, args=args)
    yield b
    b.close()


def _phone(browser: Any, server: str, outside: list[str], errors: list[str]) -> Any:
    ctx = browser.new_context(base_url=server, permissions=["camera"], **PHONE)
    ctx.set_default_timeout(15_000)

    def gate(route: Any) -> None:
        if route.request.url.startswith(server):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    ctx.route("**/*", gate)
    page = ctx.new_page()
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    return page


def test_scan_submit_approve_and_pay(camera_browser, server, api, unique) -> None:  # type: ignore[no-untyped-def]
    owner_name, clerk_name, staff_name = unique("laoban"), unique("kuaiji"), unique("yuangong")
    owner = api.register(owner_name, "周老板")
    bid = owner.business("周记茶铺")
    clerk = api.register(clerk_name, "吴会计")
    staff = api.register(staff_name, "郑员工")
    owner.add_member(bid, "bookkeeper", clerk)
    owner.add_member(bid, "employee", staff)
    outside: list[str] = []
    errors: list[str] = []

    page = _phone(camera_browser, server, outside, errors)
    login(page, staff_name)
    expect(page).to_have_url(re.compile(r"/claims$"))
    page.get_by_test_id("new-claim").click()
    expect(page.get_by_test_id("viewfinder")).to_be_visible()
    # The QR is read from the live video and the frame uploaded: the parsed invoice appears.
    parsed = page.get_by_test_id("parsed")
    expect(parsed).to_contain_text("26312000000991234567", timeout=20_000)
    expect(parsed).to_contain_text("电子发票(普通发票)")
    expect(page.get_by_test_id("claim-amount").locator("input")).to_have_value("0.01")
    page.get_by_test_id("claim-memo").locator("input").fill("茶叶样品快递")
    shot(page, "30-claim-scanned")
    page.get_by_test_id("claim-submit").click()
    expect(page).to_have_url(re.compile(r"/claims(\?|$)"))
    card = page.locator("[data-testid^=claim-]").filter(has_text="茶叶样品快递").first
    expect(card.get_by_test_id("claim-status")).to_have_text("审批中")
    shot(page, "31-my-claims")

    claims = clerk.call("GET", f"/api/v1/businesses/{bid}/claims?awaiting=true")
    assert claims["awaiting_me"] == 1
    claim = claims["items"][0]
    assert claim["receipts"][0]["qr_raw"] == QR_TEXT
    photo = clerk.call(
        "GET", f"/api/v1/businesses/{bid}/receipts/{claim['receipts'][0]['id']}/image", raw=True
    )
    assert Image.open(io.BytesIO(photo)).size == (1280, 720)  # the video frame, as the 原始凭证

    # The bookkeeper: badge on 审批, the photo, the parsed fields and the no-invoice-free flags.
    desk = _phone(camera_browser, server, outside, errors)
    login(desk, clerk_name)
    expect(desk.get_by_test_id("tab-approvals")).to_contain_text("1")
    desk.get_by_test_id("tab-approvals").click()
    item = desk.get_by_test_id(f"claim-{claim['id']}")
    expect(item.get_by_test_id("claim-fapiao")).to_contain_text("26312000000991234567")
    expect(item.get_by_test_id("receipt-thumb")).to_be_visible()
    shot(desk, "32-approvals-queue")
    item.get_by_test_id("approve").click()
    expect(desk.get_by_test_id("approvals-empty")).to_be_visible()
    done = clerk.call("GET", f"/api/v1/businesses/{bid}/claims/{claim['id']}")
    assert done["status"] == "approved" and done["entry_id"]
    entry = clerk.call("GET", f"/api/v1/businesses/{bid}/entries/{done['entry_id']}")
    assert [ln["account"] for ln in entry["lines"]][0] == "560299"

    desk.get_by_role("tab", name=re.compile("待支付")).click()
    desk.get_by_test_id(f"claim-{claim['id']}").get_by_test_id("pay-wechat").click()
    desk.get_by_role("button", name="确认").click()
    expect(desk.get_by_text("没有待支付的报销")).to_be_visible()
    paid = clerk.call("GET", f"/api/v1/businesses/{bid}/claims/{claim['id']}")
    assert paid["status"] == "paid"
    shot(desk, "33-paid")

    page.reload()
    expect(page.get_by_test_id(f"claim-{claim['id']}").get_by_test_id("claim-status")).to_have_text(
        "已支付"
    )
    assert outside == [], f"requests left the server: {outside}"
    assert not errors, errors


def test_album_photo_without_qr_is_typed_in(camera_browser, server, api, unique) -> None:  # type: ignore[no-untyped-def]
    owner_name = unique("laoban")
    owner = api.register(owner_name, "冯老板")
    bid = owner.business("冯氏文具")
    outside: list[str] = []
    errors: list[str] = []
    page = _phone(camera_browser, server, outside, errors)
    login(page, owner_name)
    expect(page.get_by_test_id("dashboard-ready")).to_be_visible()
    page.get_by_test_id("tab-me").tap()
    page.get_by_test_id("me-claims").tap()
    page.get_by_test_id("new-claim").click()
    buf = io.BytesIO()
    invoice_page(None, width=900).save(buf, "PNG")
    page.get_by_test_id("choose-photo").set_input_files(
        {"name": "shouju.png", "mimeType": "image/png", "buffer": buf.getvalue()}
    )
    expect(page.get_by_test_id("no-qr")).to_be_visible()
    page.get_by_test_id("claim-amount").locator("input").fill("35.50")
    page.get_by_test_id("claim-seller").locator("input").fill("街口文具店")
    page.get_by_test_id("claim-submit").click()
    expect(page).to_have_url(re.compile(r"/claims(\?|$)"))
    items = owner.call("GET", f"/api/v1/businesses/{bid}/claims?mine=true")["items"]
    assert items[0]["amount"] == "35.50" and items[0]["no_qr"] is True
    assert items[0]["receipts"][0]["seller"] == "街口文具店"
    assert {f["code"] for f in items[0]["flags"]} >= {"no_qr", "no_invoice"}
    assert outside == [] and not errors

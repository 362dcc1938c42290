#!/usr/bin/env python3
"""Receipt benchmark: QR success rate and time per photo, zxing-cpp vs pyzbar vs OpenCV.

    .bench/venv/bin/python scripts/bench/receipts.py [--photos 200] [--seed 1]

Needs a bench-only venv (git-ignored), so that pyzbar and OpenCV never become project deps:

    python3.11 -m venv .bench/venv
    .bench/venv/bin/pip install -r requirements.txt pyzbar opencv-python-headless numpy
    apt-get install libzbar0        # pyzbar's shared library

Generates `--photos` phone-like 12 MP (4000x3000) JPEG photos of fapiao with
tests/receipt_images.py: a random sample of the five public QR payloads, rotated (0-360°),
perspective-warped, unevenly lit, blurred (0-2.5 px) and JPEG-compressed (quality 35-92),
the QR about 7% of the photo's width. In one run, for each photo:

1. `pipeline`: the server's whole path, app.receipts.image.process (open, EXIF orientation,
   strip, downscale to 2,000 px, encode JPEG + thumbnail, zxing-cpp on the stored image, full
   resolution only if that found nothing), then the fapiao parser — the number the goal is about
   (>= 99% decoded, p50 < 150 ms);
2. the three decoders on the same 2,000 px grey image (decode only), so the success rates and
   times compare like with like: zxing-cpp `read_barcodes`, pyzbar `decode`, OpenCV
   `QRCodeDetector.detectAndDecode`.

A decode counts as a success only when the text equals the payload that was drawn.
"""

from __future__ import annotations

import argparse
import io
import platform
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from PIL import Image  # noqa: E402

from app import fapiao  # noqa: E402
from app.receipts.image import Limits, process  # noqa: E402
from tests.receipt_images import SAMPLES, phone_photo  # noqa: E402


def make_photos(n: int, seed: int) -> list[tuple[str, bytes]]:
    rnd = random.Random(seed)
    texts = list(SAMPLES.values())
    out = []
    for i in range(n):
        text = rnd.choice(texts)
        photo = phone_photo(
            text,
            size=(4000, 3000),
            angle=rnd.uniform(0, 360),
            warp=rnd.uniform(0, 0.09),
            blur=rnd.uniform(0, 2.5),
            quality=rnd.randint(35, 92),
            fill=rnd.uniform(0.45, 0.8),
            seed=i,
        )
        out.append((text, photo))
    return out


def gray_2000(photo: bytes) -> Image.Image:
    im = Image.open(io.BytesIO(photo))
    im.draft("RGB", (2000, 1500))
    im = im.convert("L")
    im.thumbnail((2000, 2000))
    return im


def decoders() -> dict:
    import cv2
    import numpy as np
    import zxingcpp
    from pyzbar import pyzbar

    detector = cv2.QRCodeDetector()

    def zx(im: Image.Image) -> list[str]:
        return [r.text for r in zxingcpp.read_barcodes(im, formats=zxingcpp.BarcodeFormat.QRCode)]

    def zbar(im: Image.Image) -> list[str]:
        return [
            s.data.decode("utf-8", "replace")
            for s in pyzbar.decode(im, symbols=[pyzbar.ZBarSymbol.QRCODE])
        ]

    def opencv(im: Image.Image) -> list[str]:
        text, _, _ = detector.detectAndDecode(np.asarray(im))
        return [text] if text else []

    return {"zxing-cpp 3.1.1": zx, "pyzbar (zbar)": zbar, "OpenCV QRCodeDetector": opencv}


def summary(name: str, ok: int, n: int, ms: list[float]) -> str:
    q = statistics.quantiles(ms, n=100)
    return (
        f"| {name} | {ok}/{n} ({100 * ok / n:.1f}%) | {statistics.median(ms):.0f} | "
        f"{q[89]:.0f} | {q[98]:.0f} |"
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--photos", type=int, default=200)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    t0 = time.perf_counter()
    photos = make_photos(args.photos, args.seed)
    print(
        f"{len(photos)} photos 4000x3000, {sum(len(p) for _, p in photos) / len(photos) / 1e6:.2f} MB "
        f"average, made in {time.perf_counter() - t0:.0f} s; {platform.processor() or platform.machine()}, "
        f"Python {platform.python_version()}"
    )
    rows = ["| what | decoded | p50 ms | p90 ms | p99 ms |", "| --- | --- | --- | --- | --- |"]
    ok, ms = 0, []
    limits = Limits()
    for text, photo in photos:
        s = time.perf_counter()
        done = process(photo, limits)
        parsed, _ = fapiao.try_parse(done.qr_texts)
        ms.append((time.perf_counter() - s) * 1000)
        ok += parsed is not None and parsed.raw == text
    rows.append(summary("server pipeline (Pillow + zxing-cpp + parse)", ok, len(photos), ms))
    grays = [(text, gray_2000(photo)) for text, photo in photos]
    for name, fn in decoders().items():
        ok, ms = 0, []
        for text, im in grays:
            s = time.perf_counter()
            found = fn(im)
            ms.append((time.perf_counter() - s) * 1000)
            ok += text in found
        rows.append(summary(f"{name}, decode only (2,000 px grey)", ok, len(grays), ms))
    print("\n".join(rows))


if __name__ == "__main__":
    main()

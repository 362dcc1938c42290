"""Phone-like photos of fapiao, made with qrcode + Pillow (no fixtures on disk).

Used by the receipt tests, the browser test's fake camera and scripts/bench/receipts.py. A
"photo" is a white invoice page with a QR code and some printed lines, placed on a darker table,
then rotated, perspective-warped, unevenly lit, blurred and JPEG-compressed as asked.
"""

from __future__ import annotations

import io
import random

import qrcode
from PIL import Image, ImageDraw, ImageFilter

SAMPLES = {
    "electronic_ordinary": "01,10,011001605111,80100798,64.9,20161018,85342965681116380258",
    "special": "01,01,1200154130,03630024,94339.62,20160621,,9335,",
    "paper_ordinary": "01,04,4200161350,00015045,165106.00,20160501,48114255542168294433,DBFE,",
    "digital_ordinary": "01,32,,24312000000136634917,0.01,20240514,,1DD6",
    "digital_special": "01,31,,24922000000012341234,666.00,20240208,,76A1",
}


def qr_image(text: str, box: int = 8) -> Image.Image:
    q = qrcode.QRCode(border=2, box_size=box, error_correction=qrcode.constants.ERROR_CORRECT_M)
    q.add_data(text)
    q.make(fit=True)
    return q.make_image(fill_color="black", back_color="white").get_image().convert("RGB")


def invoice_page(text: str | None, width: int = 1400, qr_side: int = 260) -> Image.Image:
    """A 电子发票-like page: a title bar, printed lines, and the QR in the top-left corner."""
    height = int(width * 0.62)
    page = Image.new("RGB", (width, height), (250, 250, 246))
    d = ImageDraw.Draw(page)
    d.rectangle([width * 0.3, 30, width * 0.7, 80], outline=(150, 60, 40), width=3)
    for i in range(9):
        y = int(height * 0.35) + i * int(height * 0.06)
        d.line([60, y, width - 60, y], fill=(170, 120, 90), width=2)
        d.rectangle([80, y + 8, 80 + (i * 97) % (width - 300), y + 22], fill=(60, 60, 70))
    if text is not None:
        page.paste(qr_image(text).resize((qr_side, qr_side), Image.Resampling.NEAREST), (40, 40))
    return page


def _perspective_coeffs(src: list[tuple[float, float]], dst: list[tuple[float, float]]) -> list:
    """Coefficients for Image.transform(PERSPECTIVE) mapping dst corners back to src corners."""
    rows, rhs = [], []
    for (x, y), (u, v) in zip(dst, src, strict=True):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y])
        rhs += [u, v]
    n = 8  # Gauss-Jordan elimination, small and exact enough
    m = [r + [b] for r, b in zip(rows, rhs, strict=True)]
    for c in range(n):
        p = max(range(c, n), key=lambda r: abs(m[r][c]))
        m[c], m[p] = m[p], m[c]
        for r in range(n):
            if r != c:
                f = m[r][c] / m[c][c]
                m[r] = [a - f * b for a, b in zip(m[r], m[c], strict=True)]
    return [m[i][n] / m[i][i] for i in range(n)]


def phone_photo(
    text: str | None,
    *,
    size: tuple[int, int] = (4000, 3000),
    angle: float = 0.0,
    warp: float = 0.0,
    blur: float = 0.0,
    quality: int = 88,
    fill: float = 0.75,
    seed: int = 0,
    fmt: str = "JPEG",
    exif: bytes | None = None,
) -> bytes:
    """A photo of an invoice page lying on a table, as a phone would take it."""
    rnd = random.Random(seed)
    w, h = size
    page = invoice_page(text, width=int(w * fill), qr_side=int(w * fill * 0.19))
    table = Image.new("RGB", size, (110 + rnd.randint(-20, 20), 95, 80))
    if angle:
        page = page.rotate(angle, expand=True, fillcolor=(110, 95, 80))
    if page.width > w or page.height > h:
        page.thumbnail((w, h))
    x0, y0 = (w - page.width) // 2, (h - page.height) // 2
    table.paste(page, (x0, y0))
    if warp:
        k = warp * min(w, h)
        src = [(0, 0), (w, 0), (w, h), (0, h)]
        dst = [(k, k * 0.5), (w - k * 0.3, 0), (w, h - k * 0.2), (k * 0.6, h)]
        table = table.transform(
            size, Image.Transform.PERSPECTIVE, _perspective_coeffs(src, dst), Image.BICUBIC
        )
    # Uneven light: a soft gradient multiplied in.
    light = Image.linear_gradient("L").resize(size).point(lambda v: 190 + v // 4)
    table = Image.composite(table, Image.new("RGB", size, (40, 40, 40)), light)
    if blur:
        table = table.filter(ImageFilter.GaussianBlur(blur))
    out = io.BytesIO()
    kwargs: dict = {"quality": quality} if fmt in ("JPEG", "WEBP") else {}
    if exif is not None:
        kwargs["exif"] = exif
    table.save(out, fmt, **kwargs)
    return out.getvalue()

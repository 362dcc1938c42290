"""The receipt photo pipeline: check, orient, strip, shrink, and read the fapiao QR.

Order matters for safety and speed:

1. The format is sniffed from the content (Pillow's decoders, limited to JPEG, PNG, WebP and
   HEIF), never from the file name or the declared type.
2. The pixel count is read from the header before any pixel is decoded, so a decompression bomb
   (a small file that inflates to gigapixels) is refused without being inflated.
3. JPEGs are decoded with DCT scaling (`draft`) straight to about the target size: a 12 MP photo
   costs a quarter of the work.
4. EXIF orientation is applied to the pixels, then a fresh image without any metadata (EXIF with
   GPS, XMP, ICC, comments) is encoded as JPEG: what is stored is only what the eye sees.

QR codes are read with zxing-cpp (chosen by measured success rate, scripts/bench/receipts.py):
first on the stored image, then, only if nothing was found and the photo was larger, on the
full-resolution pixels.
"""

from __future__ import annotations

import io
import math
import warnings
from dataclasses import dataclass

import pillow_heif
import zxingcpp
from PIL import Image, ImageOps, UnidentifiedImageError

from app.errors import ApiError, Unprocessable

pillow_heif.register_heif_opener()

FORMATS = ("JPEG", "PNG", "WEBP", "HEIF")


@dataclass(frozen=True)
class Limits:
    max_bytes: int = 15 * 1024 * 1024
    max_pixels: int = 50_000_000  # a 48 MP iPhone HEIC fits; a bomb does not
    max_side: int = 2000
    thumb_side: int = 320
    jpeg_quality: int = 85


@dataclass(frozen=True)
class Processed:
    image: bytes  # JPEG, no metadata
    thumb: bytes  # JPEG, no metadata
    width: int
    height: int
    source_format: str  # JPEG | PNG | WEBP | HEIF
    qr_texts: list[str]


class TooLarge(ApiError):
    status, code = 413, "file_too_large"


def _open(data: bytes, limits: Limits) -> Image.Image:
    if not data:
        raise Unprocessable("The file is empty", code="not_an_image")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            im = Image.open(io.BytesIO(data), formats=FORMATS)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _bomb() from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        raise Unprocessable(
            "The file is not a JPEG, PNG, WebP or HEIC image", code="not_an_image"
        ) from None
    width, height = im.size
    if width <= 0 or height <= 0 or width * height > limits.max_pixels:
        raise _bomb(width, height, limits)
    return im


def _bomb(width: int = 0, height: int = 0, limits: Limits | None = None) -> Unprocessable:
    text = f" ({width}x{height} pixels)" if width else ""
    cap = f"; at most {limits.max_pixels:,} pixels" if limits else ""
    return Unprocessable(
        f"The image is too large to open{text}{cap}", code="image_too_large", details=None
    )


def _load(im: Image.Image, limits: Limits, scaled: bool = True) -> Image.Image:
    """Decode the pixels, scaled down early where the codec can (JPEG DCT scaling)."""
    if scaled and im.format == "JPEG":
        long_side = max(im.size)
        if long_side > limits.max_side:
            f = limits.max_side / long_side
            im.draft("RGB", (math.ceil(im.width * f), math.ceil(im.height * f)))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            im.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _bomb() from None
    except (OSError, ValueError, SyntaxError):
        raise Unprocessable("The image data is damaged", code="not_an_image") from None
    return im


def _clean(im: Image.Image) -> Image.Image:
    """Orientation applied, RGB, and a fresh image object: no EXIF/XMP/ICC survives."""
    im = ImageOps.exif_transpose(im) or im
    if im.mode not in ("RGB", "L"):
        if im.mode in ("RGBA", "LA", "P", "PA"):
            rgba = im.convert("RGBA")
            bg = Image.new("RGB", rgba.size, "white")
            bg.paste(rgba, mask=rgba.getchannel("A"))
            im = bg
        else:
            im = im.convert("RGB")
    fresh = Image.new(im.mode, im.size)
    fresh.paste(im)
    return fresh.convert("RGB") if fresh.mode != "RGB" else fresh


def _jpeg(im: Image.Image, quality: int) -> bytes:
    out = io.BytesIO()
    im.save(out, "JPEG", quality=quality, optimize=False, progressive=False)
    return out.getvalue()


def read_qr(im: Image.Image) -> list[str]:
    """Texts of the QR codes zxing-cpp finds in `im` (grey levels are enough)."""
    gray = im if im.mode == "L" else im.convert("L")
    found = zxingcpp.read_barcodes(gray, formats=zxingcpp.BarcodeFormat.QRCode)
    return [r.text for r in found if r.valid and r.text]


def process(data: bytes, limits: Limits | None = None) -> Processed:
    """Run the whole pipeline on uploaded bytes; raise a 413/422 ApiError for refusals."""
    limits = limits or Limits()
    if len(data) > limits.max_bytes:
        raise TooLarge(
            f"The file is {len(data):,} bytes; at most {limits.max_bytes:,}",
            details={"max_bytes": limits.max_bytes},
        )
    im = _open(data, limits)
    source_format = im.format or ""
    full_size = im.size
    im = _clean(_load(im, limits))
    if max(im.size) > limits.max_side:
        im.thumbnail((limits.max_side, limits.max_side), Image.Resampling.LANCZOS)
    texts = read_qr(im)
    if not texts and max(full_size) > limits.max_side:
        # The QR may be too small once shrunk: try the full-resolution pixels (slow path).
        big = _clean(_load(_open(data, limits), limits, scaled=False))
        texts = read_qr(big)
    thumb = im.copy()
    thumb.thumbnail((limits.thumb_side, limits.thumb_side), Image.Resampling.BILINEAR)
    return Processed(
        image=_jpeg(im, limits.jpeg_quality),
        thumb=_jpeg(thumb, 80),
        width=im.width,
        height=im.height,
        source_format=source_format,
        qr_texts=texts,
    )

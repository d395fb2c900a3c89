"""Avatars and logos: the upload is decoded for real (Pillow), cropped to a square, resized and
re-encoded as a fresh PNG, so nothing of the uploaded bytes (metadata, trailing data) is kept.

Refused with a message: what does not decode as PNG, JPEG, WebP or GIF; decompression bombs (more
pixels than ``MAX_PIXELS``, checked from the header before the pixels are decoded); sides over
``MAX_SIDE`` or under ``MIN_SIDE``; animations; a crop box outside the picture.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

from webapp.core.errors import DomainError
from webapp.core.terms import N_

OUTPUT_SIDE = 256  # pixels of the stored square
MAX_PIXELS = 25_000_000  # a 5000x5000 picture; more is refused before decoding
MAX_SIDE = 10_000
MIN_SIDE = 16
FORMATS = {"PNG", "JPEG", "WEBP", "GIF"}
# Pillow's own bomb guard, at our limit: it warns past MAX_IMAGE_PIXELS and refuses at twice that.
Image.MAX_IMAGE_PIXELS = MAX_PIXELS


@dataclass(frozen=True)
class Crop:
    """A square chosen in the form: its top-left corner and side, in the picture's pixels."""

    x: int
    y: int
    size: int


def _refuse(message: str, code: str = "invalid_image") -> DomainError:
    return DomainError(message, field="file", code=code)


def crop_box(width: int, height: int, crop: Crop | None = None) -> tuple[int, int, int, int]:
    """The (left, top, right, bottom) square to keep: the chosen one, checked, or the centred largest."""
    if crop is None:
        side = min(width, height)
        left, top = (width - side) // 2, (height - side) // 2
        return left, top, left + side, top + side
    if crop.size < MIN_SIDE:
        raise DomainError(f"The crop square must be at least {MIN_SIDE} pixels.", field="crop_size", code="bad_crop")
    if crop.x < 0 or crop.y < 0:
        raise DomainError(N_("The crop square starts outside the picture."), field="crop_x", code="bad_crop")
    if crop.x + crop.size > width or crop.y + crop.size > height:
        raise DomainError(
            f"The crop square ({crop.x}, {crop.y}, {crop.size} px) goes past the picture's edge ({width}x{height}).",
            field="crop_size",
            code="bad_crop",
        )
    return crop.x, crop.y, crop.x + crop.size, crop.y + crop.size


def square_png(data: bytes, crop: Crop | None = None, side: int = OUTPUT_SIDE) -> bytes:
    """Decode ``data``, crop, resize to ``side``x``side`` and return a PNG without metadata."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image: Image.Image = Image.open(io.BytesIO(data))
            image_format = image.format
            width, height = image.size
            if image_format not in FORMATS:
                raise _refuse("Upload a PNG, JPEG, WebP or GIF picture.", "unsupported_image")
            if width * height > MAX_PIXELS:
                raise _refuse(f"The picture has too many pixels ({width}x{height}).", "image_too_large")
            if width > MAX_SIDE or height > MAX_SIDE:
                raise _refuse(
                    f"The picture is too large ({width}x{height}); at most {MAX_SIDE} px a side.", "image_too_large"
                )
            if width < MIN_SIDE or height < MIN_SIDE:
                raise _refuse(
                    f"The picture is too small ({width}x{height}); at least {MIN_SIDE} px a side.", "image_too_small"
                )
            if getattr(image, "is_animated", False) and getattr(image, "n_frames", 1) > 1:
                raise _refuse("Animated pictures cannot be used here; upload a still one.", "animated_image")
            image.load()  # the real decode: a truncated or forged file fails here
            image = ImageOps.exif_transpose(image)
    except DomainError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _refuse("The picture has too many pixels.", "image_too_large") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError):
        raise _refuse("This file is not a picture Tessera can read (PNG, JPEG, WebP or GIF).") from None
    box = crop_box(image.width, image.height, crop)
    mode = "RGBA" if image.mode in ("RGBA", "LA", "P", "PA") else "RGB"
    square = image.convert(mode).crop(box).resize((side, side), Image.Resampling.LANCZOS)
    clean = Image.new(mode, square.size)  # a new picture from the pixels alone: no EXIF, no text chunks
    clean.paste(square)
    out = io.BytesIO()
    clean.save(out, format="PNG", optimize=True)
    return out.getvalue()

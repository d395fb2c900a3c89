"""Demo pictures drawn with Pillow at seed time: an avatar for each demo person, a logo for
Harare Retail Group (on its invoices and in the switcher)."""

from __future__ import annotations

import hashlib
import io

from PIL import Image, ImageDraw

from webapp.auth.models import User
from webapp.extensions import db
from webapp.files import branding


def _colour(seed: str) -> tuple[int, int, int]:
    digest = hashlib.sha256(seed.encode()).digest()
    return 60 + digest[0] % 150, 60 + digest[1] % 150, 60 + digest[2] % 150


def avatar_picture(seed: str) -> bytes:
    """A face-like badge: a coloured disc, a lighter head and shoulders (a JPEG, like a phone's photo)."""
    base = _colour(seed)
    image = Image.new("RGB", (320, 320), tuple(min(255, c + 80) for c in base))
    draw = ImageDraw.Draw(image)
    draw.ellipse((10, 10, 310, 310), fill=base)
    draw.ellipse((110, 60, 210, 160), fill=(245, 225, 205))
    draw.pieslice((60, 170, 260, 390), 180, 360, fill=(245, 225, 205))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90)
    return out.getvalue()


def logo_picture() -> bytes:
    """Harare Retail Group's mark: three shop awnings on green (wider than tall; the square is cropped)."""
    image = Image.new("RGB", (480, 360), (22, 101, 52))
    draw = ImageDraw.Draw(image)
    for i, colour in enumerate(((250, 204, 21), (255, 255, 255), (239, 68, 68))):
        left = 90 + i * 100
        draw.rectangle((left, 110, left + 90, 250), fill=colour)
        draw.polygon([(left - 5, 110), (left + 95, 110), (left + 45, 70)], fill=colour)
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def give_avatar(user: User) -> None:
    if user.avatar_file_id is None and branding.personal_organization(user) is not None:
        branding.set_avatar(user, io.BytesIO(avatar_picture(user.email)))


def give_logo(org, actor) -> None:
    if org.logo_file_id is None:
        branding.set_logo(org, actor, io.BytesIO(logo_picture()))
        db.session.flush()

"""The visible "AI-generated" mark on downloaded image grids."""

from __future__ import annotations

from PIL import Image, ImageDraw, ImageFont

BAND = 12
TEXTS = ("AI-generated · GAN Studio", "AI-generated", "AI")


def with_ai_mark(image: Image.Image) -> Image.Image:
    """`image` with a thin band below it reading "AI-generated" (as much as fits); the
    picture itself is not drawn on."""
    out = Image.new(image.mode, (image.width, image.height + BAND), 0)
    out.paste(image, (0, 0))
    draw, font = ImageDraw.Draw(out), ImageFont.load_default()
    text = next((t for t in TEXTS if draw.textlength(t, font=font) <= image.width - 4), TEXTS[-1])
    ink = 255 if image.mode in ("L", "1", "P") else (255,) * len(image.mode)
    draw.text((2, image.height + 1), text, fill=ink, font=font)
    return out

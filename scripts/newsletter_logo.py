"""Draws the newsletter's default logo, mailer/assets/logo.png (440×120: sharp at the
220 px the template shows it). Run once at development time; the PNG is committed, so
Pillow is not a dependency of the project:

    python3 -m venv /tmp/pil && /tmp/pil/bin/pip install pillow
    /tmp/pil/bin/python scripts/newsletter_logo.py
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

WIDTH, HEIGHT = 440, 120
BLUE, RED, WHITE = (0, 0, 145), (225, 0, 15), (255, 255, 255)
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"
OUT = Path(__file__).resolve().parent.parent / "mailer" / "assets" / "logo.png"


def draw() -> Image.Image:
    image = Image.new("RGB", (WIDTH, HEIGHT), WHITE)
    pen = ImageDraw.Draw(image)
    big = ImageFont.truetype(FONT, 36)
    small = ImageFont.truetype(FONT, 27)
    words = max(pen.textlength("Territoires", font=big), pen.textlength("en Commun", font=small))
    mark, gap = 76, 22
    left = (WIDTH - (mark + gap + words)) / 2
    # The mark: two overlapping tiles, territories that hold something in common.
    pen.rounded_rectangle((left, 22, left + 52, 74), radius=10, fill=BLUE)
    pen.rounded_rectangle((left + 24, 46, left + mark, 98), radius=10, outline=RED, width=7)
    x = left + mark + gap
    pen.text((x, 16), "Territoires", font=big, fill=BLUE)
    pen.text((x, 64), "en Commun", font=small, fill=RED)
    return image


if __name__ == "__main__":
    OUT.parent.mkdir(parents=True, exist_ok=True)
    draw().save(OUT, optimize=True)
    print(f"{OUT} ({OUT.stat().st_size} bytes)")

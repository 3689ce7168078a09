"""A red round seal and a handwritten-looking signature drawn with Pillow, for the demo, the tests and the benchmark.

A real province uploads a scan of its own seal; these only stand in for one (PNG with transparency).
"""

import io
import math
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from cme_portal import fonts

RED = (200, 16, 30, 235)


def _font(size):
    for path in fonts.MAIN_FONT_FILES:
        if Path(path).exists():
            return ImageFont.truetype(path, size, index=0)
    return ImageFont.load_default(size)


def seal_png(text="浙江省继续医学教育委员会", centre="证书专用章", pixels=400):
    """A round red seal: a ring, a five-pointed star, ``text`` along the upper arc and ``centre`` below the star."""
    image = Image.new("RGBA", (pixels, pixels), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    middle = pixels / 2
    ring = pixels * 0.47
    draw.ellipse((middle - ring, middle - ring, middle + ring, middle + ring), outline=RED, width=int(pixels * 0.03))
    star = pixels * 0.14
    points = []
    for i in range(10):
        radius = star if i % 2 == 0 else star * 0.4
        angle = -math.pi / 2 + i * math.pi / 5
        points.append((middle + radius * math.cos(angle), middle + radius * math.sin(angle)))
    draw.polygon(points, fill=RED)
    letter = _font(int(pixels * 0.1))
    count = len(text)
    spread = math.radians(250)
    for i, char in enumerate(text):
        angle = -math.pi / 2 - spread / 2 + spread * (i + 0.5) / count
        radius = pixels * 0.35
        glyph = Image.new("RGBA", (int(pixels * 0.14), int(pixels * 0.14)), (0, 0, 0, 0))
        ImageDraw.Draw(glyph).text((glyph.width / 2, glyph.height / 2), char, font=letter, fill=RED, anchor="mm")
        glyph = glyph.rotate(-math.degrees(angle) - 90, resample=Image.Resampling.BICUBIC)
        x = middle + radius * math.cos(angle) - glyph.width / 2
        y = middle + radius * math.sin(angle) - glyph.height / 2
        image.alpha_composite(glyph, (int(x), int(y)))
    draw.text((middle, middle + pixels * 0.27), centre, font=_font(int(pixels * 0.075)), fill=RED, anchor="mm")
    out = io.BytesIO()
    image.save(out, "PNG", optimize=True)
    return out.getvalue()


def signature_png(name="张主任", pixels=(360, 120)):
    image = Image.new("RGBA", pixels, (0, 0, 0, 0))
    ImageDraw.Draw(image).text(
        (pixels[0] / 2, pixels[1] / 2), name, font=_font(int(pixels[1] * 0.6)), fill=(20, 30, 90, 255), anchor="mm"
    )
    out = io.BytesIO()
    image.save(out, "PNG", optimize=True)
    return out.getvalue()

"""CJK fonts for reportlab, registered once per process.

The main font is embedded TrueType (Debian's fonts-wqy-zenhei), so PDFs look
the same in every viewer. Where it lacks a glyph (rare characters such as
those of the extension planes), text falls back character by character to
HanaMin A/B (fonts-hanazono). Without any font file, reportlab's built-in CID
font STSong-Light is used (not embedded; the basic plane only).
"""

from functools import cache
from pathlib import Path

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFont

MAIN_FONT_FILES = [
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
]
FALLBACK_FONT_FILES = [
    ("PortalHanaA", "/usr/share/fonts/truetype/hanazono/HanaMinA.ttf"),
    ("PortalHanaB", "/usr/share/fonts/truetype/hanazono/HanaMinB.ttf"),
]
BUILTIN_CID = "STSong-Light"


def _register(name, path):
    font = TTFont(name, path, subfontIndex=0) if path.endswith(".ttc") else TTFont(name, path)
    pdfmetrics.registerFont(font)
    return font


@cache
def fonts():
    """[(name, set of code points or None for "anything")] in order of preference."""
    chain = []
    for path in MAIN_FONT_FILES:
        if Path(path).exists():
            chain.append(("PortalCJK", set(_register("PortalCJK", path).face.charToGlyph)))
            break
    for name, path in FALLBACK_FONT_FILES:
        if Path(path).exists():
            chain.append((name, set(_register(name, path).face.charToGlyph)))
    if not chain:
        pdfmetrics.registerFont(UnicodeCIDFont(BUILTIN_CID))
        chain.append((BUILTIN_CID, None))
    return chain


def cjk_font_name():
    """The main font's name (registering the chain on first use)."""
    return fonts()[0][0]


def embedded():
    return fonts()[0][0] != BUILTIN_CID


@cache
def _font_for(char):
    chain = fonts()
    for name, covered in chain:
        if covered is None or ord(char) in covered:
            return name
    return chain[0][0]


def runs(text):
    """Split ``text`` into (font name, piece) runs so each character is drawn by a font that has it."""
    pieces = []
    for char in text:
        name = _font_for(char)
        if pieces and pieces[-1][0] == name:
            pieces[-1][1].append(char)
        else:
            pieces.append((name, [char]))
    return [(name, "".join(chars)) for name, chars in pieces]


def draw_text(canvas, x, y, text, size, align="left"):
    """Draw ``text`` with per-character fallback; ``align`` is "left" or "centre" around ``x``."""
    pieces = runs(text)
    if align == "centre":
        x -= sum(pdfmetrics.stringWidth(piece, name, size) for name, piece in pieces) / 2
    for name, piece in pieces:
        canvas.setFont(name, size)
        canvas.drawString(x, y, piece)
        x += pdfmetrics.stringWidth(piece, name, size)

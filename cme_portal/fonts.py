"""CJK fonts for reportlab, registered once per process.

An embedded TrueType font (Debian's fonts-wqy-zenhei) so PDFs look the same in
every viewer; reportlab's built-in CID font STSong-Light (not embedded) when
no font file is installed.
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
FALLBACK_CID = "STSong-Light"


@cache
def cjk_font_name():
    """The name of the CJK font to draw with, registering it on first use."""
    for path in MAIN_FONT_FILES:
        if Path(path).exists():
            pdfmetrics.registerFont(TTFont("PortalCJK", path, subfontIndex=0))
            return "PortalCJK"
    pdfmetrics.registerFont(UnicodeCIDFont(FALLBACK_CID))
    return FALLBACK_CID

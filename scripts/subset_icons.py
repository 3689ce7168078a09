"""Cut Bootstrap Icons down to the icons the portal uses: a small stylesheet and a small font (issue 12, light pages).

The full set (static/vendor/bootstrap-icons/) is 87 KB of CSS and a 134 KB font on every first visit; the
portal uses a few dozen icons. This reads every template, script and Python module for ``bi-<name>``, and
writes static/vendor/bootstrap-icons/subset/icons.css and icons.woff2 with those glyphs only. Run it after
using a new icon (tests/test_page_weight.py fails until you do):

    .venv/bin/python scripts/subset_icons.py
"""

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FULL = ROOT / "static/vendor/bootstrap-icons"
OUT = FULL / "subset"
SOURCES = ("templates/**/*.html", "static/js/*.js", "*/**/*.py")
ICON = re.compile(r"\bbi-([a-z0-9]+(?:-[a-z0-9]+)*)")
RULE = re.compile(r'\.bi-([a-z0-9-]+)::before\{content:"\\([0-9a-f]+)"\}')


def used_icons():
    names = set()
    for pattern in SOURCES:
        for path in ROOT.glob(pattern):
            if ".venv" in path.parts or "vendor" in path.parts or "migrations" in path.parts:
                continue
            names.update(ICON.findall(path.read_text(encoding="utf-8", errors="ignore")))
    return names


def glyphs():
    return dict(RULE.findall((FULL / "bootstrap-icons.min.css").read_text(encoding="utf-8")))


def main():
    from fontTools import subset

    table = glyphs()
    names = sorted(name for name in used_icons() if name in table)
    OUT.mkdir(exist_ok=True)
    options = subset.Options()
    options.flavor = "woff2"
    options.layout_features = []
    font = subset.load_font(str(FULL / "fonts/bootstrap-icons.woff2"), options)
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=[int(table[name], 16) for name in names])
    subsetter.subset(font)
    subset.save_font(font, str(OUT / "icons.woff2"), options)
    rules = "".join(f'.bi-{name}::before{{content:"\\{table[name]}"}}' for name in names)
    (OUT / "icons.css").write_text(
        "/* Bootstrap Icons v1.13.2 (MIT), cut to the icons the portal uses by scripts/subset_icons.py */"
        '@font-face{font-display:block;font-family:bootstrap-icons;src:url("icons.woff2") format("woff2")}'
        '.bi::before,[class*=" bi-"]::before,[class^=bi-]::before{display:inline-block;font-family:bootstrap-icons!important;'
        "font-style:normal;font-weight:400!important;font-variant:normal;text-transform:none;line-height:1;"
        "vertical-align:-.125em;-webkit-font-smoothing:antialiased}" + rules + "\n",
        encoding="utf-8",
    )
    print(f"{len(names)} icons: {(OUT / 'icons.css').stat().st_size} B of CSS, {(OUT / 'icons.woff2').stat().st_size} B of font")
    return 0


if __name__ == "__main__":
    sys.exit(main())

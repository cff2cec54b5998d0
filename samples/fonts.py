"""Fonts the generator may use (Debian packages installed by `make setup`).

Other Japanese fonts on the machine are kept aside on purpose: an independent check of the reading step must be
able to use fonts the generator (and so the calibration) never saw. The `robust` scan profile draws only from
UNSEEN_*_FONTS (Debian fonts-takao-mincho, fonts-vlgothic, fonts-horai-umefont, fonts-klee, fonts-motoya-l-cedar),
which calibration and the other profiles never use.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from PIL import ImageFont

PRINTED_FONTS = {
    "ipaex_mincho": Path("/usr/share/fonts/opentype/ipaexfont-mincho/ipaexm.ttf"),
    "ipaex_gothic": Path("/usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf"),
    "noto_sans_cjk": Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),
    "noto_serif_cjk": Path("/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc"),
}
HANDWRITING_FONTS = {
    "seto": Path("/usr/share/fonts/truetype/seto/setofont.ttf"),
    "kiloji": Path("/usr/share/fonts/truetype/kiloji/kiloji.ttf"),
}
# Fonts no calibration or test profile draws from: only the `robust` benchmark profile uses them.
UNSEEN_PRINTED_FONTS = {
    "takao_mincho": Path("/usr/share/fonts/truetype/takao-mincho/TakaoMincho.ttf"),
    "vl_gothic": Path("/usr/share/fonts/truetype/vlgothic/VL-Gothic-Regular.ttf"),
    "ume_gothic": Path("/usr/share/fonts/truetype/horai-umefont/ume-tgo4.ttf"),
}
UNSEEN_HANDWRITING_FONTS = {
    "klee": Path("/usr/share/fonts/truetype/klee/KleeOne-Regular.ttf"),
    "motoya_cedar": Path("/usr/share/fonts/truetype/motoya-l-cedar/MTLc3m.ttf"),
}
# The blank form itself is always drawn in one font, as a printer would.
FORM_FONT = PRINTED_FONTS["ipaex_gothic"]
FORM_FONT_BOLD = PRINTED_FONTS["ipaex_gothic"]
# Noto CJK collections hold one face per region; index 0 of the JP-first files is Japanese.
_TTC_JAPANESE_INDEX = 0


class MissingFontError(RuntimeError):
    pass


@lru_cache(maxsize=256)
def font(path: Path, size_px: int) -> ImageFont.FreeTypeFont:
    if not path.exists():
        raise MissingFontError(
            f"font {path} is missing: run `make setup` (it installs the fonts-* packages of APT_PACKAGES)")
    index = _TTC_JAPANESE_INDEX if path.suffix == ".ttc" else 0
    return ImageFont.truetype(str(path), max(6, int(size_px)), index=index)


def fonts_for_style(style: str, unseen: bool = False) -> dict[str, Path]:
    """The fonts a page of `style` is filled with; `unseen`: those no calibration saw (the robust profile)."""
    if style == "printed":
        return UNSEEN_PRINTED_FONTS if unseen else PRINTED_FONTS
    if style == "handwritten":
        return UNSEEN_HANDWRITING_FONTS if unseen else HANDWRITING_FONTS
    raise ValueError(f"unknown fill style {style!r} (printed or handwritten)")

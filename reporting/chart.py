"""A PNG of where the time went: keying by hand (modelled) against the person time left (measured), and the wall
time of each stage. Agg backend, Japanese labels in a font from fonts-ipaexfont or fonts-noto-cjk."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
from matplotlib import font_manager  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from reporting.batch_report import STAGE_LABELS, BatchReport  # noqa: E402

JAPANESE_FONT_FILES = (
    "/usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf",
    "/usr/share/fonts/truetype/fonts-japanese-gothic.ttf",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
)


@lru_cache(maxsize=1)
def japanese_font_family() -> str:
    """The family name of the first Japanese font installed (registered with matplotlib)."""
    for path in JAPANESE_FONT_FILES:
        if Path(path).exists():
            font_manager.fontManager.addfont(path)
            return font_manager.FontProperties(fname=path).get_name()
    raise RuntimeError("日本語フォントがありません（fonts-ipaexfont か fonts-noto-cjk を入れてください）/ "
                       "no Japanese font: install fonts-ipaexfont or fonts-noto-cjk (make setup)")


def _scale(seconds: list[float]) -> tuple[float, str]:
    biggest = max(seconds, default=0.0)
    if biggest >= 2 * 3600:
        return 3600.0, "時間 / hours"
    if biggest >= 120:
        return 60.0, "分 / minutes"
    return 1.0, "秒 / seconds"


def write_chart(report: BatchReport, path: Path) -> Path:
    family = japanese_font_family()
    t = report.hours.totals
    figure = Figure(figsize=(11, 4.8), dpi=110)
    FigureCanvasAgg(figure)
    person, stages = figure.subplots(1, 2, gridspec_kw={"width_ratios": [1.2, 1]})

    manual = [("入力 keying", t["keying_seconds"], "#9ecae1"),
              ("付帯作業 overhead", t["overhead_seconds"], "#6baed6"),
              ("内容確認 verification", t["verification_seconds"], "#3182bd")]
    left = [("確認（実測）review", t["review_seconds"], "#fdae6b"),
            ("確認待ち（見込み）still to review", t["pending_review_seconds"], "#fdd0a2"),
            ("例外対応 exceptions", t["exception_seconds"], "#e6550d")]
    divisor, unit = _scale([t["baseline_seconds"],
                            t["review_seconds"] + t["pending_review_seconds"] + t["exception_seconds"]])
    bars = ["手入力（推計）\nby hand (model)", "本システム\nwith taxintake"]
    for column, parts in enumerate((manual, left)):
        bottom = 0.0
        for label, seconds, colour in parts:
            person.bar(bars[column], seconds / divisor, bottom=bottom, color=colour, label=label, width=0.55,
                       hatch="//" if "見込み" in label else None, edgecolor="white")
            bottom += seconds / divisor
        person.text(column, bottom, f"{bottom:,.1f}", ha="center", va="bottom", fontfamily=family, fontsize=9)
    person.set_ylabel(f"人の時間 / person time（{unit}）", fontfamily=family)
    person.set_title(f"削減 / saved {t['saved_seconds'] / divisor:,.1f} {unit.split(' /')[0]}", fontfamily=family)
    for tick in person.get_xticklabels():
        tick.set_fontfamily(family)
    person.legend(prop={"family": family, "size": 8}, loc="upper right")

    spans = report.facts.stages
    wall = [span.wall_seconds for span in spans]
    stage_divisor, stage_unit = _scale(wall)
    names = [STAGE_LABELS.get(span.stage, span.stage).replace(" / ", "\n") for span in spans]
    stages.barh(names[::-1] or ["—"], [w / stage_divisor for w in wall][::-1] or [0], color="#74c476")
    for y, seconds in enumerate(wall[::-1]):
        stages.text(seconds / stage_divisor, y, f" {seconds / stage_divisor:,.1f}", va="center", fontsize=9)
    stages.set_xlim(0, max(wall, default=0.0) / stage_divisor * 1.18 or 1)
    stages.set_xlabel(f"経過時間 / wall time（{stage_unit}）", fontfamily=family)
    stages.set_title("工程ごとの経過時間 / wall time per stage", fontfamily=family)
    for tick in stages.get_yticklabels():
        tick.set_fontfamily(family)

    figure.suptitle(f"バッチ {report.batch_id}：時間の行き先 / where the time went", fontfamily=family, fontsize=13)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, format="png", metadata={"Software": "taxintake"})
    return path

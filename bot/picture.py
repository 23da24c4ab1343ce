"""Trend charts drawn: matplotlib's Agg canvas (no display, no pyplot). Imported only by
the drawing process (`bot.chart`) and the CLI's `trend --png`: matplotlib takes most of a
second to import, which no other command or test should pay.

A chart is 1280×720 with large type, for a phone: one line a topic, its peak labelled
with its count and week, the weeks without any bulletin shaded and left as gaps in the
lines, the axis and dates in the chat's language (DejaVu Sans, matplotlib's own font,
has the Cyrillic glyphs).
"""

from __future__ import annotations

import io
import math
from typing import Any

from matplotlib import rc_context
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.legend import Legend
from matplotlib.patches import Patch
from matplotlib.text import Annotation
from matplotlib.ticker import MaxNLocator
from matplotlib.transforms import Bbox

from bot.i18n import t
from bot.trend import Trend, day_month, month_year

WIDTH, HEIGHT, DPI = 1280, 720, 100
COLORS = ("#1864ab", "#d9480f", "#2b8a3e")  # blue, orange, green: told apart by most eyes
# each topic its own line style and width, the first the widest: a line drawn over another
# where both count the same still lets it show
LINES = (("-", 5.0), ("--", 3.5), (":", 3.0))
GAP_COLOR = "#e9ecef"
STYLE: dict[str, Any] = {
    "font.family": "DejaVu Sans",
    "font.size": 17,
    "axes.titlesize": 22,
    "axes.labelsize": 18,
    "xtick.labelsize": 16,
    "ytick.labelsize": 16,
    "legend.fontsize": 17,
    "axes.spines.top": False,
    "axes.spines.right": False,
}
MAX_TICKS = 7


def render(trend: Trend, mode: str, language: str) -> bytes:
    """The chart of `trend` in `mode` ("b": bulletins, "i": items) as PNG bytes."""
    with rc_context(STYLE):  # type: ignore[arg-type]  # its keys are typed as literals
        figure = draw(trend, mode, language)
        out = io.BytesIO()  # a light compression: a few more kilobytes, much less time
        figure.savefig(out, format="png", dpi=DPI, pil_kwargs={"compress_level": 1})
    return out.getvalue()


def draw(trend: Trend, mode: str, language: str) -> Figure:
    """The chart's figure (under `STYLE`, which `render` sets)."""
    figure = Figure(figsize=(WIDTH / DPI, HEIGHT / DPI), dpi=DPI)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    weeks = trend.topics[0].weeks
    xs = list(range(len(weeks)))
    highest = 0
    labels_drawn = []
    for n, series in enumerate(trend.topics):
        values = [w.value(mode) for w in series.weeks]
        ys = [math.nan if v is None else v for v in values]
        highest = max([highest, *(v for v in values if v is not None)])
        color = COLORS[n % len(COLORS)]
        style, width = LINES[n % len(LINES)]
        axes.plot(xs, ys, color=color, linestyle=style, linewidth=width,
                  marker="o" if len(xs) <= 60 else None, markersize=9 - 2 * n,
                  label=f"{_short(series.query)} ({series.total(mode)})")  # fmt: skip
        peak = series.peak(mode)
        if peak is not None:
            at = series.weeks.index(peak)
            labels_drawn.append(axes.annotate(
                f"{peak.value(mode)} · {day_month(peak.monday, language)}",
                xy=(at, peak.value(mode) or 0), xytext=(0, 14), textcoords="offset points",
                ha=_side(at, len(weeks)), color=color, fontweight="bold", fontsize=16,
            ))  # fmt: skip
    handles, labels = axes.get_legend_handles_labels()
    for start, end in _runs([i for i, w in enumerate(weeks) if w.bulletins is None]):
        axes.axvspan(start - 0.5, end + 0.5, color=GAP_COLOR, zorder=0, linewidth=0)
    if trend.gaps:
        handles.append(Patch(facecolor=GAP_COLOR, edgecolor="#adb5bd"))
        labels.append(t(language, "trend_gap_label"))
    axes.set_xlim(-0.6, len(xs) - 0.2)
    axes.set_ylim(0, highest * 1.35 + 1)
    # on white, so that the lines and the gaps' swatch show over a shaded week too
    legend = axes.legend(handles, labels, loc="upper left", frameon=True, facecolor="white",
                         edgecolor="none", framealpha=0.9)  # fmt: skip
    _clear(figure, legend, labels_drawn)
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_ylabel(t(language, f"trend_axis_{mode}"))
    axes.grid(axis="y", alpha=0.35)
    long_range = len(weeks) > 60  # months and years, longer labels: fewer of them
    ticks = _ticks(len(weeks), MAX_TICKS - 2 if long_range else MAX_TICKS)
    axes.set_xticks(ticks)
    axes.set_xticklabels([
        month_year(weeks[i].monday, language) if long_range
        else day_month(weeks[i].monday, language)
        for i in ticks
    ])  # fmt: skip
    axes.set_title(" · ".join(_short(s.query) for s in trend.topics), loc="left", pad=16)
    # fixed margins (measuring every label to fit them costs a third of the drawing); a long
    # range's last label, "novembre 2026", needs more room on the right
    figure.subplots_adjust(left=0.075, right=0.93 if long_range else 0.95, top=0.9,
                           bottom=0.09)  # fmt: skip
    return figure


def _clear(figure: Figure, legend: Legend, labels: list[Annotation]) -> None:
    """Peak labels clear of each other and of the legend: each label, lowest peak first, is
    raised above any label it would cover (two peaks in one week used to draw their labels
    on top of each other); then the legend goes to the first corner that covers no label."""
    renderer = figure.canvas.get_renderer()  # type: ignore[attr-defined]
    points = 72 / figure.dpi  # pixels → points
    placed: list[Bbox] = []
    for label in sorted(labels, key=lambda a: a.xy[1]):
        for _ in range(len(labels) + 1):
            box = label.get_window_extent(renderer)
            hit = next((p for p in placed if box.overlaps(p)), None)
            if hit is None:
                break
            x, y = label.xyann
            label.xyann = (x, y + (hit.y1 - box.y0 + 4) * points)
        placed.append(label.get_window_extent(renderer))
    for corner in ("upper left", "upper right", "upper center", "center left", "center right",
                   "lower right", "lower left"):  # fmt: skip
        legend.set_loc(corner)
        box = legend.get_window_extent(renderer)
        if not any(box.overlaps(p) for p in placed):
            return


def _short(topic: str, width: int = 32) -> str:
    """A topic as the picture shows it: a long one cut (the caption has it whole)."""
    return topic if len(topic) <= width else topic[: width - 1].rstrip() + "…"


def _runs(indexes: list[int]) -> list[tuple[int, int]]:
    """Consecutive indexes as (first, last) runs."""
    runs: list[tuple[int, int]] = []
    for i in indexes:
        if runs and runs[-1][1] == i - 1:
            runs[-1] = (runs[-1][0], i)
        else:
            runs.append((i, i))
    return runs


def _ticks(count: int, most: int = MAX_TICKS) -> list[int]:
    """At most `most` week positions, evenly spread, the last week always one."""
    step = max(1, math.ceil(count / most))
    return sorted({*range(count - 1, -1, -step)})


def _side(at: int, count: int) -> str:
    """How a label at week `at` of `count` is aligned: it starts at a week by the left edge
    and ends at one by the right edge, so that it stays clear of the axis and the canvas."""
    if count >= 8 and at < count * 0.06:
        return "left"
    if count >= 8 and at > (count - 1) * 0.96:
        return "right"
    return "center"

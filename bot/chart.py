"""Trend charts as PNG pictures: matplotlib's Agg canvas (no display, no pyplot), one
chart at a time on a thread of its own, and a cache of the last charts asked for.

A chart is 1280×720 with large type, for a phone: one line a topic, its peak labelled
with its count and week, the weeks without any bulletin shaded and left as gaps in the
lines, the axis and dates in the chat's language (DejaVu Sans, matplotlib's own font,
has the Cyrillic glyphs).
"""

from __future__ import annotations

import asyncio
import io
import math
import threading
from collections import OrderedDict
from collections.abc import Hashable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from matplotlib import rc_context
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

from bot.i18n import Html, t
from bot.text.analyze import Analyzer
from bot.trend import (
    RANGES,
    Trend,
    assemble,
    caption,
    day_month,
    frame,
    month_year,
    read_topics,
    span_words,
    topic_series,
    week_key,
)
from storage.store import Store
from storage.trend import archive_version

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
            axes.annotate(f"{peak.value(mode)} · {day_month(peak.monday, language)}",
                          xy=(at, peak.value(mode) or 0), xytext=(0, 14 + 24 * n),
                          textcoords="offset points", ha=_side(at, len(weeks)),
                          color=color, fontweight="bold", fontsize=16)  # fmt: skip
    handles, labels = axes.get_legend_handles_labels()
    for start, end in _runs([i for i, w in enumerate(weeks) if w.bulletins is None]):
        axes.axvspan(start - 0.5, end + 0.5, color=GAP_COLOR, zorder=0, linewidth=0)
    if trend.gaps:
        handles.append(Patch(facecolor=GAP_COLOR, edgecolor="#adb5bd"))
        labels.append(t(language, "trend_gap_label"))
    # on white, so that the lines and the gaps' swatch show over a shaded week too
    axes.legend(handles, labels, loc="upper left", frameon=True, facecolor="white",
                edgecolor="none", framealpha=0.9)  # fmt: skip
    axes.set_xlim(-0.6, len(xs) - 0.2)
    axes.set_ylim(0, highest * 1.35 + 1)
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


# ---- off the loop, cached ------------------------------------------------------------------

_painter: ThreadPoolExecutor | None = None
_painter_lock = threading.Lock()


async def paint(trend: Trend, mode: str, language: str) -> bytes:
    """`render` on the chart thread (matplotlib's global settings are not for two threads
    at once), the event loop answering meanwhile."""
    global _painter
    with _painter_lock:
        if _painter is None:
            _painter = ThreadPoolExecutor(1, thread_name_prefix="hebdo-chart")
    return await asyncio.get_running_loop().run_in_executor(_painter, render, trend, mode,
                                                             language)  # fmt: skip


class ChartCache:
    """The last `size` charts and trends, by what they depend on (the topics, range, mode,
    language, the archive's version and the current week): a chart asked for again costs
    a look-up."""

    def __init__(self, size: int = 64) -> None:
        self.size = size
        self._entries: OrderedDict[Hashable, Any] = OrderedDict()

    def get(self, key: Hashable) -> Any:
        """The value stored under `key`, or None."""
        value = self._entries.get(key)
        if value is not None:
            self._entries.move_to_end(key)
        return value

    def put(self, key: Hashable, value: Any) -> None:
        """Keep `value`; the least recently used entry goes when the cache is full."""
        self._entries[key] = value
        self._entries.move_to_end(key)
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)


@dataclass(frozen=True)
class Chart:
    """What a chat is sent: the picture (None when nothing is mentioned) and its words."""

    png: bytes | None
    caption: str


async def make_chart(
    store: Store, cache: ChartCache, analyzer: Analyzer, tz: ZoneInfo, now: datetime,
    text: str, range_code: str, mode: str, language: str,
) -> Chart:  # fmt: skip
    """The chart of `text` — counted on a reader thread, drawn on the chart thread — or the
    cached one: the key holds all it depends on, the archive's version and this week too.
    Raises QueryError or SearchSyntaxError as search does."""
    version = await store.read(archive_version)
    topics = " ".join(text.split())
    counted = ("trend", topics, range_code, version, week_key(now, tz)[0])
    key = (*counted, mode, language)
    cached = cache.get(key)
    if isinstance(cached, Chart):
        return cached
    found = cache.get(counted)
    if found is None:  # the same counts serve both modes and every language
        queries = await store.read(read_topics, topics, analyzer)
        where = await store.read(frame, weeks=RANGES[range_code], now=now, tz=tz)
        series = await asyncio.gather(*(  # each topic on a reader thread, side by side
            store.read(topic_series, topic, query, where) for topic, query in queries
        ))  # fmt: skip
        found = assemble(where, list(series))
        cache.put(counted, found)
    if found.empty(mode):
        words = ", ".join(s.query for s in found.topics)
        chart = Chart(None, t(language, "trend_nothing", topics=words,
                              span=Html(span_words(found, range_code, language))))  # fmt: skip
    else:
        chart = Chart(
            await paint(found, mode, language), caption(found, mode, range_code, language)
        )
    cache.put(key, chart)
    return chart

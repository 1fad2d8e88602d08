"""Report charts an editor reads on a phone, and the caption that goes with an article's chart.

Each chart function takes `newsroom/engagement.py`'s plain values and returns a 1280x720 PNG, or
None when there is nothing to plot yet (the caller then sends the caption alone). matplotlib is
imported only when a chart is drawn, so start-up never pays for it, and it draws on its Agg
canvas, which needs no display and no process-wide backend. The caption is plain text: send it
without a parse mode, so a headline's "<" or "&" needs no escaping.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from bot.reports.reaction_names import reaction_name
from newsroom.engagement import ArticleEngagement, ArticleSummary, ReactionKind, SubscriberDay
from newsroom.plaintext import shorten, tidy
from newsroom.tally import Tally, format_count

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

WIDTH_PX = 1280
HEIGHT_PX = 720
CAPTION_MAX = 1024  # Telegram's photo caption, in code points
NOTHING_TO_PLOT = "Nothing to plot yet: no votes or reactions so far."

_DPI = 100
_TITLE_MAX = 48  # code points of a headline that fit across the image at the title's size
_CAPTION_TITLE_MAX = 120
_SUBSCRIBER_DAYS = 30
_WEEK_ARTICLES = 8  # more groups than this no longer read on a phone
_TOP_REACTIONS = 4  # and the rest as one "N more" row
_CHAT_KINDS = ("private", "group", "supergroup", "channel")

# Okabe-Ito colours: told apart with every common colour-vision deficiency, dark on white.
_INK = "#111111"
_MUTED = "#555555"
_GRID = "#DDDDDD"
_VOTES = "#0072B2"
_DELIVERIES = "#E3E3E3"
_DELIVERY_EDGE = "#9A9A9A"
_REACTIONS = "#D55E00"
_TRACK = "#EEEEEE"
_KIND_COLOURS = {
    "private": "#0072B2",
    "group": "#E69F00",
    "supergroup": "#009E73",
    "channel": "#CC79A7",
}
_OTHER_COLOUR = "#999999"
_WEEK_COLOURS = ("#0072B2", "#E69F00", "#D55E00", "#009E73")

_TITLE_PT = 28
_PANEL_PT = 21
_LABEL_PT = 18
_TICK_PT = 16


def has_chart(engagement: ArticleEngagement) -> bool:
    """Whether an article's chart has anything to show: a vote or a reaction."""
    return sum(engagement.option_counts) > 0 or engagement.reaction_total > 0


# ---------------------------------------------------------------- the caption


def caption(engagement: ArticleEngagement) -> str:
    """An article's report in a few plain-text lines, within Telegram's 1,024-character caption."""
    reach = engagement.reach
    by_kind = _by_kind({row.chat_kind: row.sent for row in reach})
    kinds = " · ".join(f"{kind} {format_count(sent)}" for kind, sent in by_kind if sent)
    failed = sum(row.failed for row in reach)
    blocked = sum(row.blocked for row in reach)
    headline = (
        shorten(tidy(engagement.title), _CAPTION_TITLE_MAX) or f"Article {engagement.article_id}"
    )
    lines = [
        f"📊 {headline}",
        f"Reached {format_count(engagement.reached)} chats" + (f": {kinds}" if kinds else ""),
        f"Failed {format_count(failed)} · blocked {format_count(blocked)}",
    ]
    if engagement.question is None:
        lines.append("No poll on this article")
    else:
        votes = sum(engagement.option_counts)
        lines.append(
            f"Voters {format_count(engagement.voters)} · "
            f"{engagement.per_hundred(votes):.1f} votes per 100 deliveries"
        )
    counted = [
        f"Shares {format_count(engagement.shares)}",
        f"opens {format_count(engagement.opens)}",
        f"autocards {format_count(engagement.autocards)}",
    ]
    if engagement.clicks is not None:
        counted.append(f"clicks {format_count(engagement.clicks)}")
    tail = [" · ".join(counted)]
    if not has_chart(engagement):
        tail.append(NOTHING_TO_PLOT)
    # the reactions line gets what the fixed lines leave; its newline is counted too
    room = CAPTION_MAX - len("\n".join(lines + tail)) - 1
    lines.append(_reactions_line(engagement, room))
    return "\n".join(lines + tail)[:CAPTION_MAX]


def _reactions_line(engagement: ArticleEngagement, room: int) -> str:
    """ "Reactions 85: 👍 40 · ❤ 30 ...", as many as fit in ``room``, the rest as "+N more"."""
    head = f"Reactions {format_count(engagement.reaction_total)}"
    items: list[tuple[int, str]] = []
    custom = paid = 0
    for reaction in engagement.reactions:
        if reaction.kind is ReactionKind.CUSTOM:
            custom += reaction.count
        elif reaction.kind is ReactionKind.PAID:
            paid += reaction.count
        elif reaction.count:
            items.append((reaction.count, f"{tidy(reaction.key)} {format_count(reaction.count)}"))
    if custom:
        items.append((custom, f"custom emoji {format_count(custom)}"))
    if paid:
        items.append((paid, f"paid stars {format_count(paid)}"))
    items.sort(key=lambda item: (-item[0], item[1]))
    shown: list[str] = []
    for index, (_, text) in enumerate(items):
        left = len(items) - index - 1
        more = f" · +{left} more" if left else ""
        candidate = head + ": " + " · ".join([*shown, text]) + more
        if len(candidate) > room:
            break
        shown.append(text)
    hidden = len(items) - len(shown)
    line = head + (": " + " · ".join(shown) if shown else "")
    if hidden:
        line += f"{' ·' if shown else ':'} +{hidden} more"
    return line[: max(room, 0)]


# ---------------------------------------------------------------- the charts


def article_chart(engagement: ArticleEngagement) -> bytes | None:
    """Votes since publication over the delivery curve, the options' split, the top reactions."""
    if not has_chart(engagement):
        return None
    figure = _figure()
    _title(figure, _headline(engagement.title, engagement.article_id))
    side_panels = (engagement.question is not None) + (engagement.reaction_total > 0)
    grid = figure.add_gridspec(
        max(side_panels, 1),
        2 if side_panels else 1,
        width_ratios=[1.3, 1] if side_panels else [1],
        left=0.075,
        right=0.97,
        top=0.84,
        bottom=0.13,
        wspace=0.32,
        hspace=0.55,
    )
    _draw_timeline(figure.add_subplot(grid[:, 0]), engagement)
    row = 0
    if engagement.question is not None:
        axes = figure.add_subplot(grid[row, 1])
        _panel_title(axes, _drawable(engagement.question) or "Poll")
        _draw_options(axes, engagement.options, engagement.option_counts, compact=side_panels > 1)
        row += 1
    if engagement.reaction_total > 0:
        axes = figure.add_subplot(grid[row, 1])
        _panel_title(axes, f"Reactions ({format_count(engagement.reaction_total)})")
        _draw_reactions(axes, engagement, compact=side_panels > 1)
    return _png(figure)


def poll_results_chart(
    question: str, options: Sequence[str], counts: Sequence[int]
) -> bytes | None:
    """A closed poll's final results: one bar per option with its votes and percentage."""
    tally = Tally(tuple(counts))
    if len(options) != len(tally.counts):
        raise ValueError(f"{len(options)} options but {len(tally.counts)} counts")
    if tally.total == 0:
        return None
    figure = _figure()
    _title(figure, shorten(_drawable(question), _TITLE_MAX) or "Poll")
    figure.text(
        0.04,
        0.855,
        f"Final results · {format_count(tally.total)} votes",
        fontsize=_PANEL_PT,
        color=_MUTED,
        va="top",
        parse_math=False,
    )
    axes = figure.add_axes((0.04, 0.06, 0.92, 0.72))
    _draw_options(axes, options, tally.counts, compact=False)
    return _png(figure)


def week_chart(summaries: Sequence[ArticleSummary]) -> bytes | None:
    """One row of bars per article (reached, voters, reactions, shares), the first eight given.

    Each measure has its own column and scale: on one shared scale the reach would dwarf the
    shares to nothing.
    """
    if not any(s.reached or s.voters or s.reactions or s.shares for s in summaries):
        return None
    shown = list(summaries[:_WEEK_ARTICLES])
    figure = _figure()
    heading = "Last 7 days"
    if len(summaries) > len(shown):
        heading += f": {len(shown)} of {len(summaries)} articles"
    _title(figure, heading)
    measures = (
        ("reached", [s.reached for s in shown]),
        ("voters", [s.voters for s in shown]),
        ("reactions", [s.reactions for s in shown]),
        ("shares", [s.shares for s in shown]),
    )
    left, right, gap = 0.3, 0.98, 0.02
    width = (right - left - gap * (len(measures) - 1)) / len(measures)
    rows = max(len(shown), 4)  # a few articles keep the bars as thick as four would
    size = _LABEL_PT if rows <= 6 else _TICK_PT
    for index, ((name, values), colour) in enumerate(zip(measures, _WEEK_COLOURS, strict=True)):
        axes = figure.add_axes((left + index * (width + gap), 0.04, width, 0.76))
        axes.set_axis_off()
        axes.set_ylim(rows - 0.5, -0.5)  # the first article on top
        top = max(*values, 1)
        axes.set_xlim(0, top * 1.75)  # room for the number after the longest bar
        axes.barh(range(len(shown)), [top * 1.75] * len(shown), height=0.62, color=_TRACK)
        axes.barh(range(len(shown)), values, height=0.62, color=colour)
        for row, value in enumerate(values):
            axes.text(
                value + top * 0.04, row, format_count(value), va="center", fontsize=size,
                color=_INK, weight="bold",
            )  # fmt: skip
        axes.set_title(name, loc="left", fontsize=_PANEL_PT, color=colour, weight="bold")
        if index == 0:
            for row, summary in enumerate(shown):
                label = shorten(_drawable(summary.title), 24) or f"Article {summary.article_id}"
                axes.text(
                    -top * 0.08, row, label, va="center", ha="right", fontsize=size,
                    color=_INK, parse_math=False,
                )  # fmt: skip
    return _png(figure)


def subscribers_chart(days: Sequence[SubscriberDay]) -> bytes | None:
    """Active subscribers at the end of each of the last 30 days, stacked by chat kind."""
    recent = sorted(days, key=lambda d: _utc(d.day))[-_SUBSCRIBER_DAYS:]
    if not any(any(day.by_kind.values()) for day in recent):
        return None
    kinds = [kind for kind, _ in _by_kind({k: 1 for day in recent for k in day.by_kind})]
    figure = _figure()
    latest = sum(recent[-1].by_kind.values())
    _title(figure, f"Subscribers: {format_count(latest)}, last {len(recent)} days")
    axes = figure.add_axes((0.09, 0.12, 0.86, 0.68))
    first = _utc(recent[0].day)
    xs = [(_utc(day.day) - first).total_seconds() / 86400 for day in recent]
    layers = [[day.by_kind.get(kind, 0) for day in recent] for kind in kinds]
    labels = [f"{kind} {format_count(recent[-1].by_kind.get(kind, 0))}" for kind in kinds]
    colours = [_KIND_COLOURS.get(kind, _OTHER_COLOUR) for kind in kinds]
    axes.stackplot(xs, layers, labels=labels, colors=colours, alpha=0.9)
    axes.set_ylim(0, max(1, *map(sum, zip(*layers, strict=True))) * 1.1)
    axes.set_xlim(0, max(xs[-1], 1))
    # a date every week, counted back from the latest day so that day is always labelled
    ticks = list(range(len(recent) - 1, -1, -7))[::-1]
    axes.set_xticks([xs[i] for i in ticks], [recent[i].day.strftime("%d %b") for i in ticks])
    _count_axis(axes)
    _tidy_axes(axes)
    axes.grid(axis="y", color=_GRID)
    axes.legend(
        loc="lower left",
        bbox_to_anchor=(0.0, 1.0),
        ncols=len(kinds),
        fontsize=_LABEL_PT,
        frameon=False,
        reverse=True,
    )
    return _png(figure)


# ---------------------------------------------------------------- panels


@dataclass(frozen=True, slots=True)
class _Bar:
    label: str
    figure: str  # the number shown at the bar's end
    share: float  # 0..1 of the track


def _draw_options(
    axes: Axes, options: Sequence[str], counts: Sequence[int], *, compact: bool
) -> None:
    percentages = Tally(tuple(counts)).percentages()
    bars = [
        _Bar(
            _drawable(option) or f"Option {n}",
            f"{percent}% · {format_count(count)}",
            percent / 100,
        )
        for n, (option, count, percent) in enumerate(
            zip(options, counts, percentages, strict=True), start=1
        )
    ]
    _draw_stacked_bars(axes, bars, _VOTES, rows=max(len(bars), 4 if compact else 5))


def _draw_reactions(axes: Axes, engagement: ArticleEngagement, *, compact: bool) -> None:
    ranked = sorted(
        (r for r in engagement.reactions if r.count), key=lambda r: (-r.count, r.kind, r.key)
    )
    top = ranked[0].count if ranked else 1
    bars = []
    for reaction in ranked[:_TOP_REACTIONS]:
        name = reaction_name(reaction)
        glyph = reaction.key if reaction.kind is ReactionKind.EMOJI else ""
        # the emoji itself only where the font can draw it; the name is always there
        label = f"{glyph} {name}" if glyph and _drawable(glyph) == glyph else name
        bars.append(_Bar(label, format_count(reaction.count), reaction.count / top))
    if len(ranked) > _TOP_REACTIONS:
        rest = sum(r.count for r in ranked[_TOP_REACTIONS:])
        more = len(ranked) - _TOP_REACTIONS
        bars.append(_Bar(f"{more} more", format_count(rest), min(rest / top, 1.0)))
    _draw_inline_bars(axes, bars, _REACTIONS, rows=max(len(bars), 4 if compact else 7))


def _draw_stacked_bars(axes: Axes, bars: Sequence[_Bar], colour: str, *, rows: int) -> None:
    """Bars the way a poll shows results: the label above each bar, its number at the right."""
    size, chars = _fit(axes, rows, share_of_row=0.42)
    for row, bar in enumerate(bars):
        room = chars - len(bar.figure) - 2
        axes.text(
            0, row + 0.45, shorten(bar.label, room), fontsize=size, color=_INK, va="bottom",
            parse_math=False,
        )  # fmt: skip
        axes.text(
            1, row + 0.45, bar.figure, fontsize=size, color=_INK, va="bottom", ha="right",
            weight="bold",
        )  # fmt: skip
        axes.barh(row + 0.68, 1, height=0.36, color=_TRACK)
        axes.barh(row + 0.68, bar.share, height=0.36, color=colour)


def _draw_inline_bars(axes: Axes, bars: Sequence[_Bar], colour: str, *, rows: int) -> None:
    """One line per bar: its label, the bar, its number; for short labels such as reactions."""
    size, chars = _fit(axes, rows, share_of_row=0.6)
    left, right = 0.42, 0.86  # the bar's track, in the panel's width
    for row, bar in enumerate(bars):
        middle = row + 0.5
        axes.text(
            0, middle, shorten(bar.label, int(chars * left) - 1), fontsize=size, color=_INK,
            va="center", parse_math=False,
        )  # fmt: skip
        axes.text(
            1, middle, bar.figure, fontsize=size, color=_INK, va="center", ha="right",
            weight="bold",
        )  # fmt: skip
        axes.barh(middle, right - left, left=left, height=0.6, color=_TRACK)
        axes.barh(middle, (right - left) * bar.share, left=left, height=0.6, color=colour)


def _fit(axes: Axes, rows: int, *, share_of_row: float) -> tuple[float, int]:
    """Prepare a panel of ``rows`` text rows; the type size that fills ``share_of_row`` of a
    row (never above the label size), and how many characters of it fit across the panel."""
    axes.set_axis_off()
    axes.set_xlim(0, 1)
    axes.set_ylim(rows, 0)
    box = axes.get_position()
    row_px = box.height * HEIGHT_PX / rows
    size = min(_LABEL_PT, max(row_px * share_of_row * 72 / _DPI, 10))
    # DejaVu Sans averages about 0.6 em per character of mixed text
    chars = int(box.width * WIDTH_PX / (size * _DPI / 72 * 0.6))
    return size, chars


def _draw_timeline(axes: Axes, engagement: ArticleEngagement) -> None:
    """Cumulative votes since publication over the cumulative copies sent (on a second axis);
    the copies alone for an article without a poll."""
    votes = sorted(map(_utc, engagement.vote_times))
    sent = sorted(map(_utc, engagement.delivery_times))
    if engagement.published_at is not None:
        origin = _utc(engagement.published_at)
    else:
        origin = min(votes[:1] + sent[:1], default=datetime.now(UTC))
    span_hours = (max(votes[-1:] + sent[-1:] + [origin]) - origin).total_seconds() / 3600
    unit, per_hour = (
        ("minutes", 60)
        if span_hours <= 3
        else ("hours", 1)
        if span_hours <= 72
        else ("days", 1 / 24)
    )

    def offsets(times: list[datetime]) -> list[float]:
        return [max((t - origin).total_seconds() / 3600 * per_hour, 0) for t in times]

    right_end = max(span_hours * per_hour, 1e-9)
    with_poll = engagement.question is not None
    _panel_title(axes, "Votes since publication" if with_poll else "Copies sent since publication")
    copies = axes.twinx() if with_poll else axes
    if sent:
        xs, ys = _cumulative(offsets(sent), right_end)
        copies.fill_between(xs, ys, step="post", color=_DELIVERIES, label="copies sent", lw=0)
        copies.step(xs, ys, where="post", color=_DELIVERY_EDGE, lw=1.5)
    copies.set_ylim(0, max(len(sent), 1) * 1.08)
    copies.set_ylabel("copies sent", fontsize=_LABEL_PT, color=_MUTED)
    copies.tick_params(labelsize=_TICK_PT, colors=_MUTED)
    _count_axis(copies)
    copies.spines["top"].set_visible(False)
    axes.set_xlim(0, right_end)
    axes.set_xlabel(f"{unit} since publication", fontsize=_LABEL_PT, color=_INK)
    axes.tick_params(axis="x", labelsize=_TICK_PT, colors=_INK)
    axes.grid(axis="y", color=_GRID)
    if not with_poll:
        axes.spines["right"].set_visible(False)
        return
    # the vote line in front of the delivery area: raise its axes and clear its background
    axes.set_zorder(copies.get_zorder() + 1)
    axes.patch.set_visible(False)
    xs, ys = _cumulative(offsets(votes), right_end)
    axes.step(xs, ys, where="post", color=_VOTES, lw=4, label="votes")
    axes.set_ylim(0, max(len(votes), 1) * 1.08)
    axes.set_ylabel("votes", fontsize=_LABEL_PT, color=_VOTES)
    axes.tick_params(axis="y", labelsize=_TICK_PT, colors=_INK)
    _count_axis(axes)
    handles = axes.get_legend_handles_labels()[0] + copies.get_legend_handles_labels()[0]
    # a white box: the legend stays readable over the delivery area
    axes.legend(
        handles=handles, loc="lower right", fontsize=_TICK_PT, facecolor="white",
        edgecolor="none", framealpha=1, handlelength=1.2,
    )  # fmt: skip


def _cumulative(offsets: list[float], end: float) -> tuple[list[float], list[int]]:
    """A step curve from zero: one step up per event, held flat to ``end``."""
    xs = [0.0, *offsets, max(end, offsets[-1] if offsets else 0.0)]
    ys = [0, *range(1, len(offsets) + 1), len(offsets)]
    return xs, ys


# ---------------------------------------------------------------- drawing helpers


def _figure() -> Figure:
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: PLC0415
    from matplotlib.figure import Figure  # noqa: PLC0415

    figure = Figure(figsize=(WIDTH_PX / _DPI, HEIGHT_PX / _DPI), dpi=_DPI, facecolor="white")
    FigureCanvasAgg(figure)  # attaches itself: this figure renders with Agg, whatever the default
    return figure


def _png(figure: Figure) -> bytes:
    out = io.BytesIO()
    # no "Software" stamp: the same numbers make the same bytes
    figure.savefig(out, format="png", dpi=_DPI, metadata={"Software": None})
    return out.getvalue()


def _title(figure: Figure, text: str) -> None:
    figure.text(
        0.04, 0.955, text, fontsize=_TITLE_PT, weight="bold", color=_INK, va="top",
        parse_math=False,
    )  # fmt: skip


def _panel_title(axes: Axes, text: str) -> None:
    # as many characters as fit across the panel at the panel title's size
    fit = int(axes.get_position().width * WIDTH_PX / (_PANEL_PT * _DPI / 72 * 0.58))
    axes.set_title(
        shorten(text, fit), loc="left", fontsize=_PANEL_PT, color=_INK, pad=12, parse_math=False
    )


def _tidy_axes(axes: Axes) -> None:
    axes.tick_params(labelsize=_TICK_PT, colors=_INK)
    for spine in ("top", "right"):
        axes.spines[spine].set_visible(False)


def _count_axis(axes: Axes) -> None:
    """Whole numbers on the y axis, thousands separated: 1,200 rather than 1200.0."""
    from matplotlib.ticker import MaxNLocator, StrMethodFormatter  # noqa: PLC0415

    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.yaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))


def _headline(title: str, article_id: int) -> str:
    return shorten(_drawable(title), _TITLE_MAX) or f"Article {article_id}"


def _drawable(text: str) -> str:
    """``text`` on one line without the characters the chart's font cannot draw.

    A missing glyph would print as an empty box (and warn); emoji in a headline are decoration.
    """
    glyphs = _glyphs()
    kept = "".join(char for char in tidy(text) if char == " " or ord(char) in glyphs)
    return " ".join(kept.split())


@functools.cache
def _glyphs() -> frozenset[int]:
    """The code points the font matplotlib draws text in has a glyph for."""
    from matplotlib import font_manager  # noqa: PLC0415
    from matplotlib.ft2font import FT2Font  # noqa: PLC0415

    path = font_manager.findfont(font_manager.FontProperties())
    return frozenset(FT2Font(path).get_charmap())


def _by_kind(values: dict[str, int]) -> list[tuple[str, int]]:
    """Chat kinds in Telegram's order (private, group, supergroup, channel), unknown ones after."""
    known = [(kind, values[kind]) for kind in _CHAT_KINDS if kind in values]
    return known + sorted((k, v) for k, v in values.items() if k not in _CHAT_KINDS)


def _utc(moment: datetime) -> datetime:
    """An aware UTC time; the database hands back naive times that are UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)

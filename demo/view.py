"""What the demo shows while it runs and when it ends, drawn with rich.

On a terminal the status is a live panel (progress bars for subscriptions, each article's
delivery and the poll copies brought up to date; the main poll's totals; votes, edits and 429s).
Anywhere else (CI logs, pipes) the same status is one plain line every few seconds.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Protocol

from rich.console import Console, Group
from rich.live import Live
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn
from rich.table import Table

from demo.checks import Check
from newsroom.plaintext import shorten
from newsroom.tally import Tally

LOG_EVERY = 3.0  # seconds between two plain status lines


@dataclass(frozen=True)
class Bar:
    """One progress bar: what is counted, how far, and the phase it belongs to."""

    phase: str
    label: str
    done: int
    total: int


@dataclass(frozen=True)
class DemoStatus:
    """One moment of the demo, as the views draw it."""

    phase: str
    elapsed: float
    bars: tuple[Bar, ...]
    poll_question: str
    poll_totals: tuple[tuple[str, int], ...]
    taps: int
    edits: int
    errors_429: int


@dataclass(frozen=True)
class DemoSummary:
    """The demo's outcome: the figures it reached and its self-checks."""

    readers: int
    chats: int
    articles: int
    taps: int
    votes: int
    poll_copies: int
    edits: int
    errors_429: int
    seconds: float
    checks: tuple[Check, ...]
    resubscribed: int = 0
    # The editor's /report chart of the main article, as a PNG file (None: nothing to plot).
    report_chart: Path | None = None

    @property
    def passed(self) -> bool:
        return all(check.passed for check in self.checks)

    @property
    def failed(self) -> tuple[str, ...]:
        return tuple(check.name for check in self.checks if not check.passed)


class DemoView(Protocol):
    def __enter__(self) -> DemoView: ...

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None: ...

    def show(self, status: DemoStatus) -> None: ...

    def say(self, line: str) -> None: ...


def _totals_table(status: DemoStatus) -> Table:
    table = Table(box=None, expand=False, padding=(0, 1))
    table.add_column(f"📊 {shorten(status.poll_question, 80)}", no_wrap=True)
    table.add_column("votes", justify="right")
    tally = Tally(tuple(count for _, count in status.poll_totals))
    # The tally's own percentages, which add up to 100 as on the cards (rounding each alone
    # can make 101).
    for (option, count), percent in zip(status.poll_totals, tally.percentages(), strict=True):
        share = f"{percent}%" if tally.total else "-"
        table.add_row(f"  {shorten(option, 40)}", f"{count} ({share})")
    return table


def _counters(status: DemoStatus) -> str:
    return (
        f"[bold]{status.phase}[/bold] · {status.elapsed:.0f} s · taps answered {status.taps} · "
        f"poll edits sent {status.edits} · 429s {status.errors_429}"
    )


class LiveView:
    """The live panel for a terminal."""

    def __init__(self, console: Console) -> None:
        self._console = console
        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            console=console,
        )
        self._tasks: dict[str, TaskID] = {}
        self._status: DemoStatus | None = None
        self._live = Live(console=console, refresh_per_second=8, transient=False)

    def __enter__(self) -> LiveView:
        self._live.__enter__()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._live.__exit__(kind, error, trace)

    def show(self, status: DemoStatus) -> None:
        for bar in status.bars:
            task = self._tasks.get(bar.label)
            if task is None:
                task = self._tasks[bar.label] = self._progress.add_task(bar.label, total=bar.total)
            self._progress.update(task, completed=bar.done, total=bar.total)
        parts: list[Table | Progress | str] = [_counters(status), self._progress]
        if status.poll_totals:
            parts.append(_totals_table(status))
        self._live.update(Group(*parts))

    def say(self, line: str) -> None:
        self._live.console.print(line)


class LogView:
    """Plain lines for logs: the phase and every bar, when something moved, every few seconds."""

    def __init__(self, console: Console) -> None:
        self._console = console
        self._last_line = ""
        self._last_at = 0.0
        self._phase = ""
        self._pending: str | None = None

    def __enter__(self) -> LogView:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        del kind, error, trace
        if self._pending is not None:
            self._print(self._pending)
            self._pending = None

    def show(self, status: DemoStatus) -> None:
        now = time.monotonic()
        bars = [b for b in status.bars if b.phase == status.phase or b.done < b.total]
        counted = ", ".join(f"{bar.label} {bar.done}/{bar.total}" for bar in bars)
        totals = " ".join(f"{option}={count}" for option, count in status.poll_totals)
        figures = (
            status.phase
            + (f": {counted}" if counted else "")
            + f" | taps {status.taps} | edits {status.edits} | 429s {status.errors_429}"
            + (f" | {totals}" if totals else "")
        )
        self._pending = None
        if figures == self._last_line:
            return
        line = f"[{status.elapsed:5.1f}s] {figures}"
        if status.phase == self._phase and now - self._last_at < LOG_EVERY:
            # Kept for the end of the run: the last figures are always printed.
            self._pending = line
            return
        self._print(line)
        self._last_line, self._last_at, self._phase = figures, now, status.phase

    def _print(self, line: str) -> None:
        self._console.print(line, markup=False, highlight=False, soft_wrap=True)

    def say(self, line: str) -> None:
        self._console.print(line)


def make_view(console: Console) -> DemoView:
    """The live panel on a terminal, plain lines anywhere else."""
    return LiveView(console) if console.is_terminal else LogView(console)


def summary_table(summary: DemoSummary) -> Table:
    table = Table(title="Self-check", title_justify="left")
    table.add_column("check")
    table.add_column("result")
    table.add_column("found")
    for check in summary.checks:
        mark = "[green]PASS[/green]" if check.passed else "[red]FAIL[/red]"
        table.add_row(check.name, mark, check.detail)
    return table


def print_summary(console: Console, summary: DemoSummary) -> None:
    console.print(
        f"{summary.readers} readers in {summary.chats} chats got {summary.articles} articles. "
        f"{summary.taps} taps left {summary.votes} votes; {summary.edits} edits kept "
        f"{summary.poll_copies} poll copies live; {summary.errors_429} 429s; "
        f"{summary.seconds:.0f} s in all.",
        highlight=False,
        soft_wrap=True,
    )
    if summary.resubscribed:
        console.print(
            f"[yellow]note[/yellow]: the bot answered {summary.resubscribed} /subscribe with an "
            "error (see the log above); those readers sent it again.",
            highlight=False,
        )
    console.print(summary_table(summary))
    if summary.report_chart is not None:
        console.print(
            f"Report chart of the main article: {summary.report_chart}",
            highlight=False,
            soft_wrap=True,
        )
    if summary.passed:
        console.print("[bold green]demo passed[/bold green]: every check holds.")
    else:
        console.print(f"[bold red]demo failed[/bold red]: {', '.join(summary.failed)}.")

"""The offline demo: it runs the real bot against the emulator and its self-checks hold."""

from __future__ import annotations

import asyncio
import io
import itertools
import re
from pathlib import Path

import pytest
from harness import run_bot_command
from rich.console import Console

from demo.run import DemoOptions, run_demo
from demo.view import DemoStatus, make_view
from demo.voting import DemoPoll, plan_votes
from emulator.simulation import Emulator

# The demo makes its own SQLite file; the PostgreSQL pass has nothing to add.
pytestmark = pytest.mark.sqlite_only

CHECK_NAMES = (
    "each card once",
    "every tap answered",
    "votes stored as cast",
    "copies show stored totals",
    "digest reader",
    "forum topics",
    "no 429 from Telegram",
)


async def test_small_demo_passes_every_self_check(tmp_path: Path) -> None:
    """Twenty readers, three groups and a channel get each sample once and live poll totals;
    the reader who chose a daily digest gets one digest instead, and each of the forum's two
    subscribed topics gets each card."""
    output = io.StringIO()
    console = Console(file=output, width=120)

    summary = await run_demo(
        DemoOptions(readers=20, seconds=3, db_path=tmp_path / "demo.db"), console=console
    )

    assert [check.name for check in summary.checks] == list(CHECK_NAMES)
    assert summary.passed, summary.checks
    assert summary.chats == 24
    assert summary.articles == 3
    assert summary.taps > 0
    assert summary.poll_copies == 48
    assert summary.errors_429 == 0
    assert "demo passed" in output.getvalue()


async def test_the_demo_writes_its_main_articles_report_chart_beside_the_database(
    tmp_path: Path,
) -> None:
    """The summary's report chart of the main article is a PNG beside --db, its path printed."""
    output = io.StringIO()
    console = Console(file=output, width=400)

    summary = await run_demo(
        DemoOptions(readers=20, seconds=3, db_path=tmp_path / "demo.db"), console=console
    )

    chart = summary.report_chart
    assert chart is not None
    assert chart.parent == tmp_path
    assert chart.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert f"Report chart of the main article: {chart}" in output.getvalue()


def test_vote_plan_has_a_burst_a_tail_and_second_thoughts() -> None:
    """Most first taps come early, some come late, and some readers change or retract."""
    emulator = Emulator()
    emulator.add_bot("123456789:demo-plan-token-for-tests")
    readers = [emulator.create_user(f"Reader {n}") for n in range(400)]
    channel = emulator.create_channel("Channel", creator=readers[0])
    poll = DemoPoll(1, "https://news.example/a", "Q?", ("Yes", "No"), (2.0, 1.0), turnout=1.0)

    plans = plan_votes(
        polls=[poll],
        readers=readers,
        private_chat=emulator.private_chat,
        group_of={},
        channel=channel,
        seconds=20,
    )

    firsts = [plan.taps[0].at for plan in plans]
    assert len(plans) == 400
    assert sum(at < 5 for at in firsts) > len(firsts) / 2
    assert any(at > 10 for at in firsts)
    assert 10 < sum(plan.changed for plan in plans) < 80
    assert 5 < sum(plan.retracted for plan in plans) < 40
    assert all(
        second.at - first.at >= 1.5
        for plan in plans
        for first, second in itertools.pairwise(plan.taps)
    )


@pytest.mark.slow
async def test_demo_command_exits_zero_with_its_summary(tmp_path: Path) -> None:
    """`python -m bot demo` needs no token or settings and prints the passed self-check."""
    code, text, err = await run_bot_command(
        tmp_path, "demo", "--readers", "30", "--seconds", "3", timeout=120
    )
    assert code == 0, text + err
    assert "30 readers in 34 chats got 3 articles" in text
    for name in CHECK_NAMES:
        assert f"{name}" in text
    assert "FAIL" not in text
    assert "demo passed: every check holds." in text
    assert not await asyncio.to_thread(lambda: list(tmp_path.iterdir()))  # nothing left behind


def test_live_totals_table_percentages_add_up_to_100() -> None:
    """47, 38 and 16 votes, each share rounded alone, read 47 + 38 + 16 = 101 %: the terminal
    shows the tally's own percentages, as the cards do (46 + 38 + 16)."""
    output = io.StringIO()
    console = Console(file=output, width=100, force_terminal=True)
    status = DemoStatus(
        phase="voting",
        elapsed=3.0,
        bars=(),
        poll_question="Should boat moorings be restricted?",
        poll_totals=(("Yes", 47), ("No", 38), ("Not sure", 16)),
        taps=101,
        edits=4,
        errors_429=0,
    )

    with make_view(console) as view:
        view.show(status)

    shown = [int(p) for p in re.findall(r"\((\d+)%\)", output.getvalue())]
    assert shown[-3:] == [46, 38, 16]

"""`python -m benchmarks [--quick]`: every scenario, the bot beside the two baselines.

Runs each scenario in its own process (see `benchmarks.harness`), prints progress, and writes
docs/BENCHMARKS.md: the machine, the date, the command, every figure with its target, and the
ratios to the baseline. `--quick` runs small sizes as a smoke test and prints the report
instead of writing it (unless `--output` is given).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks import fanout, vote_storm
from benchmarks.harness import print_json, run_child, this_machine
from benchmarks.report import Results, render

DOC = Path(__file__).resolve().parents[1] / "docs" / "BENCHMARKS.md"


@dataclass(frozen=True)
class Sizes:
    """How big each scenario is; the report states them."""

    storm_votes: int
    storm_readers: int
    storm_chats: int
    storm_concurrency: int
    offered_rate: float
    offered_seconds: float
    reaction_rate: float
    webhook_votes: int
    baseline_storm_seconds: float
    baseline_concurrency: int
    periodic_votes: int
    periodic_offered_seconds: float
    periodic_period: float
    fanout_subscribers: int
    limited_seconds: float
    lifted_subscribers: int
    memory_sizes: tuple[int, ...]
    memory_deliveries: int
    ingest_pages: int
    startup_runs: int


FULL = Sizes(
    storm_votes=20_000,
    storm_readers=5_000,
    storm_chats=50,
    storm_concurrency=256,
    offered_rate=300.0,
    offered_seconds=5.0,
    reaction_rate=500.0,
    webhook_votes=20_000,
    baseline_storm_seconds=30.0,
    baseline_concurrency=4,
    # The periodic bot manages tens of votes a second: 1,200 votes take about a minute.
    periodic_votes=1_200,
    periodic_offered_seconds=2.0,
    periodic_period=10.0,
    fanout_subscribers=10_000,
    limited_seconds=20.0,
    lifted_subscribers=10_000,
    memory_sizes=(100_000, 1_000_000),
    memory_deliveries=10_000,
    ingest_pages=300,
    startup_runs=3,
)
QUICK = Sizes(
    storm_votes=1_000,
    storm_readers=500,
    storm_chats=50,
    storm_concurrency=128,
    offered_rate=100.0,
    offered_seconds=2.0,
    reaction_rate=200.0,
    webhook_votes=1_000,
    baseline_storm_seconds=5.0,
    baseline_concurrency=4,
    periodic_votes=200,
    periodic_offered_seconds=1.0,
    periodic_period=10.0,
    fanout_subscribers=1_000,
    limited_seconds=5.0,
    lifted_subscribers=1_000,
    memory_sizes=(10_000,),
    memory_deliveries=2_000,
    ingest_pages=30,
    startup_runs=1,
)


# --- child processes: one scenario each, figures as the last JSON line ----------------------


def _child(name: str, arguments: dict[str, Any]) -> None:
    """Runs in a child process: one scenario of another module, figures printed as JSON."""
    if name == "storm":
        figures: object = asdict(asyncio.run(vote_storm.run_storm(**arguments)))
    elif name == "fanout-limited":
        figures = fanout.measure_limited(arguments["subscribers"], arguments["seconds"])
    elif name == "fanout-paid":
        figures = fanout.measure_paid(arguments["subscribers"])
    elif name == "fanout-lifted":
        figures = fanout.measure_lifted(arguments["subscribers"])
    elif name == "fanout-memory":
        figures = fanout.measure_memory(arguments["subscribers"], arguments["deliveries"])
    else:
        raise ValueError(f"unknown scenario {name!r}")
    print_json(figures)


def _in_child(name: str, **arguments: Any) -> dict[str, Any]:
    return run_child("benchmarks", "--child", name, "--arguments", json.dumps(arguments))


# --- the suite -------------------------------------------------------------------------------


def _steps(sizes: Sizes) -> list[tuple[str, Any]]:
    """Each figure set by name, with how to measure it."""
    s = sizes
    steps: list[tuple[str, Any]] = [
        (
            "storm",
            lambda: _in_child(
                "storm",
                votes=s.storm_votes,
                readers=s.storm_readers,
                chats=s.storm_chats,
                concurrency=s.storm_concurrency,
                offered_rate=s.offered_rate,
                offered_seconds=s.offered_seconds,
                reaction_rate=s.reaction_rate,
            ),
        ),
        (
            "storm_webhook",
            lambda: _in_child(
                "storm",
                votes=s.webhook_votes,
                readers=s.storm_readers,
                chats=s.storm_chats,
                concurrency=s.storm_concurrency,
                offered_rate=s.offered_rate,
                offered_seconds=s.offered_seconds,
                reaction_rate=0.0,
                webhook=True,
            ),
        ),
        (
            "baseline_storm",
            lambda: run_child(
                "benchmarks.baseline",
                "storm",
                f"--readers={s.storm_readers}",
                f"--chats={s.storm_chats}",
                f"--concurrency={s.baseline_concurrency}",
                f"--seconds={s.baseline_storm_seconds}",
            ),
        ),
        (
            "periodic_storm",
            lambda: run_child(
                "benchmarks.baseline",
                "periodic-storm",
                f"--votes={s.periodic_votes}",
                f"--readers={s.storm_readers}",
                f"--chats={s.storm_chats}",
                f"--concurrency={s.storm_concurrency}",
                f"--rate={s.offered_rate}",
                f"--rate-seconds={s.periodic_offered_seconds}",
                f"--period={s.periodic_period}",
            ),
        ),
        (
            "fanout_limited",
            lambda: _in_child(
                "fanout-limited", subscribers=s.fanout_subscribers, seconds=s.limited_seconds
            ),
        ),
        (
            "baseline_fanout_limited",
            lambda: run_child(
                "benchmarks.baseline",
                "fanout-limited",
                f"--subscribers={s.fanout_subscribers}",
                f"--seconds={s.limited_seconds}",
            ),
        ),
        (
            "periodic_fanout_limited",
            lambda: run_child(
                "benchmarks.baseline",
                "periodic-fanout-limited",
                f"--subscribers={s.fanout_subscribers}",
                f"--seconds={s.limited_seconds}",
            ),
        ),
        (
            "fanout_paid",
            lambda: _in_child("fanout-paid", subscribers=s.fanout_subscribers),
        ),
        (
            "fanout_lifted",
            lambda: _in_child("fanout-lifted", subscribers=s.lifted_subscribers),
        ),
        (
            "baseline_fanout_lifted",
            lambda: run_child(
                "benchmarks.baseline", "fanout-lifted", f"--subscribers={s.lifted_subscribers}"
            ),
        ),
        (
            "periodic_fanout_lifted",
            lambda: run_child(
                "benchmarks.baseline",
                "periodic-fanout-lifted",
                f"--subscribers={s.lifted_subscribers}",
            ),
        ),
    ]
    for size in s.memory_sizes:
        steps += [
            (
                f"memory_{size}",
                lambda size=size: _in_child(
                    "fanout-memory", subscribers=size, deliveries=s.memory_deliveries
                ),
            ),
            (
                f"baseline_memory_{size}",
                lambda size=size: run_child(
                    "benchmarks.baseline",
                    "memory",
                    f"--subscribers={size}",
                    f"--deliveries={s.memory_deliveries}",
                ),
            ),
        ]
    steps += [
        ("ingest", lambda: run_child("benchmarks.ingest", f"--pages={s.ingest_pages}")),
        ("startup", lambda: run_child("benchmarks.startup", f"--runs={s.startup_runs}")),
    ]
    return steps


def run_suite(sizes: Sizes, *, only: set[str] | None = None) -> Results:
    """Every scenario, one after another, with progress on stderr."""
    figures: dict[str, dict[str, Any]] = {}
    failures: dict[str, str] = {}
    load = os.getloadavg()[0]
    began = time.perf_counter()
    for name, measure in _steps(sizes):
        if only is not None and not any(name.startswith(prefix) for prefix in only):
            continue
        sys.stderr.write(f"[{time.perf_counter() - began:6.0f} s] {name} ...\n")
        sys.stderr.flush()
        started = time.perf_counter()
        try:
            figures[name] = measure()
        except Exception as error:  # a broken scenario is reported, the rest still run
            failures[name] = str(error).splitlines()[0] if str(error) else type(error).__name__
            sys.stderr.write(f"           {name} failed: {error}\n")
        else:
            sys.stderr.write(
                f"           {name}: {json.dumps(figures[name])} "
                f"({time.perf_counter() - started:.0f} s)\n"
            )
    return Results(
        figures=figures,
        failures=failures,
        sizes=asdict(sizes),
        machine=this_machine(),
        load_at_start=load,
        when=datetime.now(UTC),
        seconds=time.perf_counter() - began,
    )


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Run every benchmark (the bot and both baselines) and write the report.",
    )
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run")
    parser.add_argument(
        "--output",
        type=Path,
        default=None,
        help="where to write the report (default: docs/BENCHMARKS.md; --quick: stdout)",
    )
    parser.add_argument(
        "--only", nargs="*", default=None, help="run only the figure sets with these prefixes"
    )
    # Internal: one scenario in a child process.
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--arguments", default="{}", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def _command(options: argparse.Namespace) -> str:
    command = "python -m benchmarks"
    if options.quick:
        command += " --quick"
    if options.only:
        command += " --only " + " ".join(options.only)
    return command


def main(argv: list[str] | None = None) -> None:
    options = _arguments(argv)
    if options.child is not None:
        _child(options.child, json.loads(options.arguments))
        return
    sizes = QUICK if options.quick else FULL
    results = run_suite(sizes, only=set(options.only) if options.only else None)
    report = render(results, command=_command(options))
    output = options.output if options.output is not None or options.quick else DOC
    if output is None:
        sys.stdout.write(report)
        return
    output.write_text(report, encoding="utf-8")
    sys.stderr.write(f"wrote {output} ({results.seconds:.0f} s in all)\n")


if __name__ == "__main__":
    main()

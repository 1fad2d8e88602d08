"""`python -m benchmarks.baseline SCENARIO ...`: one figure set of a baseline bot.

The naive bot: `storm`, `fanout-limited`, `fanout-lifted`, `memory`. The periodic bot:
`periodic-storm`, `periodic-fanout-limited`, `periodic-fanout-lifted`, and `periodic-bot` (the
bot itself, long-polling until stopped: what `periodic-storm` starts in its own process). Each
scenario prints its figures as one JSON line (what `python -m benchmarks` reads).
"""

from __future__ import annotations

import argparse
import asyncio
import logging

from benchmarks.baseline import broadcast, periodic_bot, periodic_fanout, periodic_storm, storm
from benchmarks.harness import print_json

NAIVE = ("storm", "fanout-limited", "fanout-lifted", "memory")
PERIODIC = ("periodic-storm", "periodic-fanout-limited", "periodic-fanout-lifted", "periodic-bot")


def _periodic(options: argparse.Namespace) -> None:
    """The periodic bot's scenarios, and the bot itself."""
    if options.scenario == "periodic-bot":
        # A careful bot logs every failed edit; the storm keeps the lines in a file.
        logging.basicConfig(level=logging.WARNING)
        periodic_bot.serve(
            options.token, options.base_url, options.database_url, period=options.period
        )
        return
    logging.basicConfig(level=logging.CRITICAL)
    if options.scenario == "periodic-storm":
        figures = asyncio.run(
            periodic_storm.run_periodic_storm(
                votes=options.votes,
                readers=options.readers,
                chats=options.chats,
                concurrency=options.concurrency,
                offered_rate=options.rate,
                offered_seconds=options.rate_seconds,
                period=options.period,
            )
        )
    elif options.scenario == "periodic-fanout-limited":
        figures = periodic_fanout.measure_limited(options.subscribers, options.seconds)
    else:
        figures = periodic_fanout.measure_lifted(options.subscribers)
    print_json(figures)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.baseline", description=__doc__)
    parser.add_argument("scenario", choices=[*NAIVE, *PERIODIC])
    parser.add_argument("--readers", type=int, default=5_000)
    parser.add_argument("--chats", type=int, default=50)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--deliveries", type=int, default=20_000)
    parser.add_argument("--votes", type=int, default=1_200, help="periodic storm: taps")
    parser.add_argument("--rate", type=float, default=300.0, help="offered taps/s for latency")
    parser.add_argument("--rate-seconds", type=float, default=5.0)
    parser.add_argument("--period", type=float, default=periodic_bot.REFRESH_SECONDS)
    parser.add_argument("--token", default=periodic_storm.TOKEN)
    parser.add_argument("--base-url", default="", help="periodic-bot: the Bot API to poll")
    parser.add_argument("--database-url", default="", help="periodic-bot: its database")
    options = parser.parse_args(argv)
    if options.scenario in PERIODIC:
        _periodic(options)
        return
    # The naive bot's own errors (flood control, not modified) would drown the output.
    logging.basicConfig(level=logging.CRITICAL)
    if options.scenario == "storm":
        figures = asyncio.run(
            storm.run_naive_storm(
                readers=options.readers,
                chats=options.chats,
                concurrency=options.concurrency,
                seconds=options.seconds,
            )
        )
    elif options.scenario == "fanout-limited":
        figures = broadcast.measure_limited(options.subscribers, options.seconds)
    elif options.scenario == "fanout-lifted":
        figures = broadcast.measure_lifted(options.subscribers)
    else:
        figures = asyncio.run(broadcast.measure_memory(options.subscribers, options.deliveries))
    print_json(figures)


if __name__ == "__main__":
    main()

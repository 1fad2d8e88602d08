"""`python -m benchmarks.baseline storm|fanout-limited|fanout-lifted|memory ...`: one figure set.

Each prints its figures as one JSON line (what `python -m benchmarks` reads).
"""

from __future__ import annotations

import argparse
import asyncio
import logging

from benchmarks.baseline import broadcast, storm
from benchmarks.harness import print_json


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.baseline", description=__doc__)
    parser.add_argument("scenario", choices=["storm", "fanout-limited", "fanout-lifted", "memory"])
    parser.add_argument("--readers", type=int, default=5_000)
    parser.add_argument("--chats", type=int, default=50)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--deliveries", type=int, default=20_000)
    options = parser.parse_args(argv)
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

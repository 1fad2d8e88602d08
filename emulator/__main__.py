"""`python -m emulator --port PORT [--token T ...] [--no-limits] [--web]`: the emulator alone."""

from __future__ import annotations

import argparse
import asyncio
import sys

from emulator.limits import RateLimits
from emulator.simulation import Emulator


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m emulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081, help="0 picks a free port")
    parser.add_argument(
        "--token", action="append", default=[], help="a bot token to accept (repeatable)"
    )
    parser.add_argument("--no-limits", action="store_true", help="lift every flood limit")
    parser.add_argument(
        "--callback-timeout",
        type=float,
        default=15.0,
        help="seconds a callback query may wait for its answer",
    )
    parser.add_argument(
        "--no-record", action="store_true", help="do not keep a log of every request"
    )
    parser.add_argument(
        "--web", action="store_true", help="serve the web view of every chat under /web/"
    )
    return parser.parse_args(argv)


async def _serve(options: argparse.Namespace) -> None:
    emulator = Emulator(
        limits=RateLimits.unlimited() if options.no_limits else RateLimits(),
        callback_answer_timeout=options.callback_timeout,
        host=options.host,
        port=options.port,
        record_requests=not options.no_record,
        web=options.web,
    )
    for token in options.token:
        emulator.add_bot(token)
    async with emulator:
        sys.stdout.write(f"{emulator.base_url}\n")
        if options.web:
            sys.stdout.write(f"web view: {emulator.web_url}\n")
        sys.stdout.flush()
        await asyncio.Event().wait()


def main(argv: list[str] | None = None) -> None:
    options = _arguments(argv)
    try:
        asyncio.run(_serve(options))
    except KeyboardInterrupt:
        return


if __name__ == "__main__":
    main()

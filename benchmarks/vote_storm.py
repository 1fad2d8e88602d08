"""Vote storm: many readers voting on one poll shown in many chats, end to end.

The real bot (``python -m bot run``, in its own process) long-polls the in-repo emulator with
Telegram's default flood limits and a fresh SQLite database; the emulator and the simulated
readers share this process, so each side has a core of its own. A poll's card is posted in
``chats`` chats (private chats, groups, supergroups and channels); then ``readers`` readers
cast ``votes`` taps on random copies and options as fast as the bot answers (``concurrency``
taps in flight), and afterwards taps arrive at a fixed ``offered_rate`` per second to measure
answer latency. A vote counts once its callback is answered, which the bot does only after the
vote is committed. Last, the same offered rate again while readers react to the channel copies
at ``reaction_rate`` updates per second (each one a ``message_reaction_count`` update the bot
stores), to see whether reactions slow the taps.

Reported: votes per second end to end, p50/p99 answer latency at the offered rate with and
without reactions, how long after the last reaction the stored counts matched the emulator's,
edits per poll message, 429 answers from the emulator, and how long after the last vote every
copy showed the stored totals.

    python -m benchmarks.vote_storm --votes 20000 --readers 5000 --chats 50
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import random
import socket
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import select
from telegram import Bot
from telegram.constants import ParseMode
from telegram.ext import ExtBot

from bot.articles.card import PollMessageContent, render_card_for_poll_update
from bot.articles.loader import card_article
from bot.telegram.callback_data import VoteTap, encode
from bot.telegram.limiter import SendLimiter
from bot.telegram.transport import AiohttpRequest
from emulator.simulation import Emulator, SimChat, SimMessage, SimUser
from storage import polls
from storage.engine import Database
from storage.migrate import upgrade
from storage.models import Article, CopyReactionCount

TOKEN = "123456789:vote-storm-benchmark-token"
OPTIONS = ("Yes", "No", "Not sure")


@dataclass(frozen=True)
class StormFigures:
    votes: int
    readers: int
    chats: int
    votes_per_second: float
    offered_rate: float
    latency_p50_ms: float
    latency_p99_ms: float
    edits: int
    edits_per_message: float
    errors_429: int
    converged_after_s: float | None
    # Taps never answered within the tap timeout (30 s), in either phase.
    unanswered: int = 0
    # The phase with reactions: updates offered per second, sent, and the taps' latency then.
    reaction_rate: float = 0.0
    reaction_updates: int = 0
    reacting_p50_ms: float | None = None
    reacting_p99_ms: float | None = None
    # Seconds from the last reaction until the stored counts equalled the emulator's.
    reactions_stored_after_s: float | None = None

    def lines(self) -> list[str]:
        converged = (
            "never (within the wait)"
            if self.converged_after_s is None
            else f"{self.converged_after_s:.2f} s after the last vote"
        )
        return [
            f"votes: {self.votes} from {self.readers} readers, poll shown in {self.chats} chats",
            f"end to end: {self.votes_per_second:.0f} votes/s (tap in, vote stored, answered)",
            f"answer latency at {self.offered_rate:.0f} votes/s: "
            f"p50 {self.latency_p50_ms:.1f} ms, p99 {self.latency_p99_ms:.1f} ms",
            f"edits: {self.edits} in all, {self.edits_per_message:.1f} per poll message",
            f"taps never answered at that rate: {self.unanswered}",
            f"429 answers: {self.errors_429}",
            f"every copy showed the stored totals: {converged}",
            f"with {self.reaction_updates} reaction updates at {self.reaction_rate:.0f}/s: "
            f"p50 {self.reacting_p50_ms or 0:.1f} ms, p99 {self.reacting_p99_ms or 0:.1f} ms; "
            f"stored {self.reactions_stored_after_s} s after the last",
        ]


async def _post_cards(
    bot: Bot, db: Database, chats: list[SimChat], poll_id: int, article_id: int
) -> list[SimMessage]:
    content = await _card(db, poll_id, article_id)

    async def post(chat: SimChat) -> SimMessage:
        sent = await bot.send_message(
            chat.id, content.text_html, parse_mode=ParseMode.HTML, reply_markup=content.markup
        )
        async with db.transaction() as session:
            await polls.register_poll_message(
                session,
                poll_id=poll_id,
                chat_id=chat.id,
                message_id=sent.message_id,
                shown_hash=content.fingerprint,
            )
        return chat.messages[sent.message_id]

    return list(await asyncio.gather(*(post(chat) for chat in chats)))


def _chats(emulator: Emulator, readers: list[SimUser], count: int) -> list[SimChat]:
    owner = emulator.create_user("Owner")
    chats: list[SimChat] = []
    for n in range(count):
        kind = n % 4
        if kind == 0:
            chat = emulator.private_chat(readers[n % len(readers)])
            chat.started = True
        elif kind == 1:
            chat = emulator.create_group(f"Group {n}", creator=owner)
        elif kind == 2:
            chat = emulator.create_group(f"Supergroup {n}", creator=owner, supergroup=True)
        else:
            chat = emulator.create_channel(f"Channel {n}", creator=owner)
        chats.append(chat)
    return chats


async def _card(db: Database, poll_id: int, article_id: int) -> PollMessageContent:
    """The poll's card as the database's totals make it: what every copy should show."""
    async with db.transaction() as session:
        view = await polls.poll_view(session, poll_id=poll_id)
        article = await session.get(Article, article_id)
    assert view is not None
    assert article is not None
    return render_card_for_poll_update(card_article(article), poll=view)


def _shows(message: SimMessage, content: PollMessageContent) -> bool:
    expected = content.markup.to_dict()["inline_keyboard"]
    return [[b.get("text") for b in row] for row in message.buttons] == [
        [b.get("text") for b in row] for row in expected
    ]


async def _create_poll(db: Database) -> tuple[int, int]:
    async with db.transaction() as session:
        article = Article(canonical_url="https://news.example/storm", title="Storm")
        session.add(article)
        await session.flush()
        assert article.id is not None
        poll = await polls.create_poll(
            session,
            article_id=article.id,
            question="Should the centre go car-free?",
            options=OPTIONS,
        )
        assert poll.id is not None
        return poll.id, article.id


@asynccontextmanager
async def _bot_process(
    emulator: Emulator, database_url: str, folder: Path, *, webhook: bool
) -> AsyncIterator[None]:
    """`python -m bot run` against the emulator, from `folder`, until its first getUpdates
    (or, with `webhook`, `run --webhook` until its setWebhook)."""
    env = os.environ | {
        "BOT_TOKEN": TOKEN,
        "TELEGRAM_BASE_URL": emulator.base_url,
        "DATABASE_URL": database_url,
        "LOG_LEVEL": "WARNING",
    }
    arguments = ["-m", "bot", "run"]
    first_request = "getUpdates"
    if webhook:
        port = _free_port()
        env |= {
            "WEBHOOK_URL": f"http://127.0.0.1:{port}/telegram",
            "WEBHOOK_SECRET": "storm-benchmark-webhook-secret-0123456789",
            "WEBHOOK_LISTEN": "127.0.0.1",
            "WEBHOOK_PORT": str(port),
        }
        arguments.append("--webhook")
        first_request = "setWebhook"
    process = await asyncio.create_subprocess_exec(sys.executable, *arguments, cwd=folder, env=env)
    try:
        await emulator.wait_for(lambda: bool(emulator.requests(first_request)), timeout=60)
        yield
    finally:
        if process.returncode is None:
            process.terminate()
        await process.wait()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def _throughput(
    tap: Callable[[], asyncio.Future[object]], votes: int, limit: int
) -> tuple[float, int]:
    """Seconds to get ``votes`` taps answered with ``limit`` of them in flight at any time,
    and how many of them were never answered."""
    unanswered: list[asyncio.Future[object]] = []
    started = time.perf_counter()
    remaining = votes
    in_flight: set[asyncio.Future[object]] = set()
    while remaining or in_flight:
        while remaining and len(in_flight) < limit:
            in_flight.add(tap())
            remaining -= 1
        done, in_flight = await asyncio.wait(in_flight, return_when=asyncio.FIRST_COMPLETED)
        for future in done:
            try:
                future.result()
            except TimeoutError:
                # Not answered within the tap's timeout: reported, not fatal to the run.
                unanswered.append(future)
    return time.perf_counter() - started, len(unanswered)


async def _latencies(
    tap: Callable[[], asyncio.Future[object]], rate: float, seconds: float
) -> tuple[list[float], int]:
    """Each tap's seconds from press to answer, with taps offered at ``rate`` per second,
    and how many taps were never answered."""
    latencies: list[float] = []
    unanswered: list[float] = []

    async def timed() -> None:
        begun = time.perf_counter()
        try:
            await tap()
        except TimeoutError:
            # Never answered: counted at the tap's timeout, so the quantiles are lower bounds.
            unanswered.append(begun)
        latencies.append(time.perf_counter() - begun)

    timed_taps = []
    start = time.perf_counter()
    for n in range(int(rate * seconds)):
        delay = start + n / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        timed_taps.append(asyncio.ensure_future(timed()))
    await asyncio.gather(*timed_taps)
    return latencies, len(unanswered)


_REACTIONS = ("👍", "❤", "🔥", "🎉", "😢", "🤔")


async def _react(
    emulator: Emulator,
    people: list[SimUser],
    copies: list[SimMessage],
    *,
    rate: float,
    seconds: float,
    pick: random.Random,
) -> int:
    """Readers change their reactions on the channel copies at ``rate`` per second; how many
    changes were made (each one an update to the bot)."""
    channel_copies = _channel_copies(copies)
    made = 0
    start = time.perf_counter()
    for n in range(int(rate * seconds)):
        delay = start + n / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        chat, copy = pick.choice(channel_copies)
        reader = pick.choice(people)
        if await emulator.react(reader, chat, copy.message_id, [pick.choice(_REACTIONS)]):
            made += 1
    return made


def _channel_copies(copies: list[SimMessage]) -> list[tuple[SimChat, SimMessage]]:
    return [
        (copy.chat, copy)
        for copy in copies
        if copy.chat is not None and copy.chat.type == "channel"
    ]


def _reactions_shown(copies: list[SimMessage]) -> int:
    """Every reaction under the channel copies, as the emulator counts them."""
    return sum(
        len(reactions)
        for _, copy in _channel_copies(copies)
        for reactions in copy.reactions.values()
    )


async def _reactions_stored(db: Database, article_id: int) -> int:
    async with db.transaction() as session:
        total = await session.exec(
            select(sa.func.coalesce(sa.func.sum(CopyReactionCount.count), 0)).where(
                CopyReactionCount.article_id == article_id
            )
        )
        return int(total.one())


async def run_storm(
    *,
    votes: int = 20_000,
    readers: int = 5_000,
    chats: int = 50,
    concurrency: int = 256,
    offered_rate: float = 300.0,
    offered_seconds: float = 5.0,
    reaction_rate: float = 500.0,
    webhook: bool = False,
    seed: int = 1,
) -> StormFigures:
    """Run one storm against a fresh bot and database; return the figures. With `webhook`
    the bot takes its updates by webhook (the emulator pushes them, and the bot answers taps
    in its replies) instead of long polling."""
    pick = random.Random(seed)
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{Path(folder) / 'storm.db'}"
        async with Emulator() as emulator:
            emulator.add_bot(TOKEN, username="storm_bot")
            people = [emulator.create_user(f"Reader {n}") for n in range(readers)]
            where = _chats(emulator, people, chats)
            owner_id = next(iter(where[1].members))
            owner = emulator.world.users[owner_id]
            for chat in where:
                if chat.type != "private":
                    await emulator.add_bot_to_chat(chat, by=owner, admin=chat.type == "channel")
            db = Database.connect(url)
            await upgrade(db)
            poll_id, article_id = await _create_poll(db)
            # Paced as the bot paces its own sends, so posting the cards meets no 429.
            poster = ExtBot(
                TOKEN,
                base_url=emulator.base_url,
                request=AiohttpRequest(),
                rate_limiter=SendLimiter(),
            )
            async with poster as bot:
                copies = await _post_cards(bot, db, where, poll_id, article_id)
            async with _bot_process(emulator, url, Path(folder), webhook=webhook):
                edits_before = len(emulator.requests("editMessageText"))

                def tap() -> asyncio.Future[object]:
                    reader = pick.choice(people)
                    data = encode(VoteTap(poll_id, pick.randrange(len(OPTIONS))))
                    return asyncio.ensure_future(
                        emulator.press_button(reader, pick.choice(copies), data=data, timeout=30)
                    )

                elapsed, lost = await _throughput(tap, votes, concurrency)
                latencies, unanswered = await _latencies(tap, offered_rate, offered_seconds)
                reacting, made = await asyncio.gather(
                    _latencies(tap, offered_rate, offered_seconds),
                    _react(
                        emulator,
                        people,
                        copies,
                        rate=reaction_rate,
                        seconds=offered_seconds,
                        pick=pick,
                    ),
                )
                last_vote = time.perf_counter()
                stored_after: float | None = None
                shown = _reactions_shown(copies)
                deadline = last_vote + 30
                while time.perf_counter() < deadline:
                    if await _reactions_stored(db, article_id) == shown:
                        stored_after = time.perf_counter() - last_vote
                        break
                    await asyncio.sleep(0.05)

                expected = await _card(db, poll_id, article_id)
                converged: float | None = None
                try:
                    await emulator.wait_for(
                        lambda: all(_shows(copy, expected) for copy in copies), timeout=30
                    )
                    converged = time.perf_counter() - last_vote
                except TimeoutError:
                    converged = None
                edits = len(emulator.requests("editMessageText")) - edits_before
                errors = emulator.count_errors(429)
            await db.dispose()
    quantiles = statistics.quantiles(latencies, n=100)
    with_reactions = statistics.quantiles(reacting[0], n=100)
    return StormFigures(
        votes=votes,
        readers=readers,
        chats=chats,
        votes_per_second=(votes - lost) / elapsed,
        offered_rate=offered_rate,
        latency_p50_ms=quantiles[49] * 1000,
        latency_p99_ms=quantiles[98] * 1000,
        edits=edits,
        edits_per_message=edits / chats,
        errors_429=errors,
        unanswered=unanswered + lost + reacting[1],
        converged_after_s=converged,
        reaction_rate=reaction_rate,
        reaction_updates=made,
        reacting_p50_ms=with_reactions[49] * 1000,
        reacting_p99_ms=with_reactions[98] * 1000,
        reactions_stored_after_s=stored_after,
    )


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.vote_storm", description=__doc__)
    parser.add_argument("--votes", type=int, default=20_000)
    parser.add_argument("--readers", type=int, default=5_000)
    parser.add_argument("--chats", type=int, default=50)
    parser.add_argument("--concurrency", type=int, default=256)
    parser.add_argument("--rate", type=float, default=300.0, help="offered votes/s for latency")
    parser.add_argument("--rate-seconds", type=float, default=5.0)
    parser.add_argument("--reactions", type=float, default=500.0, help="reaction updates/s")
    parser.add_argument("--webhook", action="store_true", help="updates by webhook, not polling")
    options = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    figures = asyncio.run(
        run_storm(
            votes=options.votes,
            readers=options.readers,
            chats=options.chats,
            concurrency=options.concurrency,
            offered_rate=options.rate,
            offered_seconds=options.rate_seconds,
            reaction_rate=options.reactions,
            webhook=options.webhook,
        )
    )
    for line in figures.lines():
        print(line)  # the benchmark's report


if __name__ == "__main__":
    main()

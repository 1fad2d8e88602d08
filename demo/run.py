"""`python -m bot demo`: the whole bot working offline, against the emulator, self-checked.

It needs no token, no settings and no network: it starts the Bot API emulator (with Telegram's
default flood limits and its web view), runs the real bot against it on a fresh SQLite file,
and plays an editor and readers. Readers and groups subscribe, the editor publishes the sample
articles by replying /publish to each Markdown file, readers vote over `seconds` seconds (a
burst, then a tail; some change their mind or take the vote back), and the bot keeps every
copy of each poll up to date. It ends by checking what every chat shows against the database.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import signal
import tempfile
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, replace
from pathlib import Path
from zoneinfo import ZoneInfo

from pydantic_settings import BaseSettings, PydanticBaseSettingsSource
from rich.console import Console

from bot.app import build_application
from bot.logs import configure_logging
from bot.runtime.lifecycle import polling
from bot.services import BotApplication
from bot.settings import Settings
from demo.checks import (
    PollCopy,
    check_copies,
    check_each_card_once,
    check_no_flood,
    check_taps,
    check_votes,
    count_current,
    stored_copy,
    stored_counts,
)
from demo.choices import (
    DemoClock,
    Forum,
    check_digest,
    check_forum,
    choose_daily_digest,
    digests_in,
    forum_following_two_topics,
    next_hour,
)
from demo.report import chart_folder, write_report_chart
from demo.view import Bar, DemoStatus, DemoSummary, DemoView, make_view, print_summary
from demo.voting import (
    DemoPoll,
    VoterPlan,
    VotingTally,
    cast_votes,
    default_weights,
    intended_counts,
    plan_votes,
)
from demo.world import (
    Audience,
    cards_in,
    count_confirmed,
    create_audience,
    error_replies,
    is_confirmed,
    publish_file,
    subscribe_again,
    subscribe_everyone,
)
from emulator.simulation import Emulator, SimChat, SimMessage, SimUser
from newsroom.plaintext import shorten
from storage import articles, polls
from storage.engine import Database

SAMPLES = Path(__file__).resolve().parents[1] / "examples" / "articles"
TICK = 0.25  # seconds between two redraws of the status
SUBSCRIBE_TIMEOUT = 60.0
DELIVERY_TIMEOUT = 300.0
SETTLE_TIMEOUT = 180.0
MAIN_TURNOUT = 0.75  # readers who vote on the main poll
OTHER_TURNOUT = 0.35  # readers who vote on each other poll


@dataclass(frozen=True)
class DemoOptions:
    readers: int = 200
    seconds: float = 15.0
    keep: bool = False
    db_path: Path | None = None
    samples: Path = SAMPLES


class DemoError(Exception):
    """A phase of the demo never finished; the message names it."""


class _DemoSettings(Settings):
    """The bot's settings with only what the demo passes: no environment, no .env."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        del settings_cls, env_settings, dotenv_settings, file_secret_settings
        return (init_settings,)


@dataclass(frozen=True)
class DemoArticle:
    """A published sample as stored: its address (which finds its cards), title and poll."""

    article_id: int
    url: str
    title: str
    poll: DemoPoll | None


def sample_articles(folder: Path) -> list[Path]:
    """The Markdown samples, those with a poll first."""
    files = sorted(folder.glob("*.md"))
    if not files:
        raise FileNotFoundError(f"no sample articles (*.md) in {folder}")
    return sorted(files, key=lambda path: "\npoll:" not in path.read_text(encoding="utf-8"))


def demo_token() -> str:
    """A made-up token in Telegram's shape; only the emulator ever sees it."""
    return f"{secrets.randbelow(9 * 10**9) + 10**9}:{secrets.token_urlsafe(27)}"


def demo_settings(token: str, emulator: Emulator, database_url: str, admin_id: int) -> Settings:
    return _DemoSettings(
        bot_token=token,
        telegram_base_url=emulator.base_url,
        database_url=database_url,
        admin_ids=frozenset({admin_id}),
        log_level="WARNING",
    )


async def stored_article(db: Database, article_id: int) -> DemoArticle:
    """The published article and its poll, as the database has them."""
    async with db.transaction() as session:
        article = await articles.get_article(session, article_id=article_id)
        poll = await polls.poll_for_article(session, article_id=article_id)
        record = (
            await polls.poll_record(session, poll_id=poll.id)
            if poll is not None and poll.id is not None
            else None
        )
    if article is None:
        raise LookupError(f"article {article_id} was not stored")
    demo_poll = (
        None
        if record is None
        else DemoPoll(
            record.poll_id,
            article.canonical_url,
            record.question,
            record.options,
            default_weights(len(record.options)),
        )
    )
    return DemoArticle(article_id, article.canonical_url, article.title, demo_poll)


class Demo:
    """One run: the people and chats, then subscribe, publish, vote, settle and check."""

    def __init__(self, options: DemoOptions, emulator: Emulator, view: DemoView) -> None:
        self.options = options
        self.emulator = emulator
        self.view = view
        self.audience: Audience = create_audience(emulator, readers=options.readers)
        self.chats: list[SimChat] = self.audience.subscribed_chats(emulator)
        self.articles: list[DemoArticle] = []
        self.tally = VotingTally()
        self.plans: list[VoterPlan] = []
        self.phase = "starting"
        self.bars: list[Callable[[], Bar]] = []
        self.main_poll: DemoPoll | None = None
        # Subscriptions the bot answered with an error, which the reader then sent again.
        self.resubscribed = 0
        self.application: BotApplication | None = None
        # Readers' choices: one reader takes a morning digest, a forum follows two topics.
        self.clock = DemoClock()
        self.digest_reader = emulator.create_user("Nadia", last_name="Okafor")
        self.forum: Forum | None = None
        self.expected: dict[str, PollCopy] = {}
        self._loop = asyncio.get_running_loop()
        self._started = self._loop.time()

    # --- what the view draws ----------------------------------------------------------------

    def elapsed(self) -> float:
        return self._loop.time() - self._started

    async def status(self, db: Database) -> DemoStatus:
        totals: tuple[tuple[str, int], ...] = ()
        if (poll := self.main_poll) is not None:
            counts = await stored_counts(db, poll.poll_id)
            totals = tuple(zip(poll.options, counts, strict=True))
        live_totals = self.application.bot_data.live_totals if self.application else None
        return DemoStatus(
            phase=self.phase,
            elapsed=self.elapsed(),
            bars=tuple(bar() for bar in self.bars),
            poll_question=poll.question if poll is not None else "",
            poll_totals=totals,
            taps=self.tally.answered,
            edits=live_totals.edits_sent if live_totals is not None else 0,
            errors_429=self.emulator.count_errors(429),
        )

    async def redraw(self, db: Database) -> None:
        while True:
            self.view.show(await self.status(db))
            await asyncio.sleep(TICK)

    # --- the phases -------------------------------------------------------------------------

    async def subscribe(self) -> None:
        self.phase = "subscribing"
        chats = self.chats
        self.bars = [
            lambda: Bar(
                "subscribing", "subscribed", count_confirmed(self.emulator, chats), len(chats)
            )
        ]
        await subscribe_everyone(self.emulator, self.audience)
        deadline = self._loop.time() + SUBSCRIBE_TIMEOUT
        retried: Counter[int] = Counter()
        while True:
            with contextlib.suppress(TimeoutError):
                await self.emulator.wait_for(
                    lambda: count_confirmed(self.emulator, chats) == len(chats), timeout=1.0
                )
                return
            if self._loop.time() > deadline:
                raise DemoError(f"subscribing: waited {SUBSCRIBE_TIMEOUT:.0f} s for every chat")
            for chat in chats:
                if error_replies(self.emulator, chat) > retried[chat.id] and not is_confirmed(
                    self.emulator, chat
                ):
                    retried[chat.id] += 1
                    self.resubscribed += 1
                    await subscribe_again(self.emulator, self.audience, chat)

    async def choose(self, zone: ZoneInfo) -> None:
        """The digest reader picks the next hour's daily digest; the forum subscribes two
        topics."""
        self.phase = "choosing"
        hour, _ = next_hour(zone, self.clock())
        await choose_daily_digest(self.emulator, self.digest_reader, hour=hour)
        self.forum = await forum_following_two_topics(self.emulator)

    async def publish(self, db: Database) -> None:
        self.phase = "publishing"
        for source in sample_articles(self.options.samples):
            published = await publish_file(self.emulator, self.audience.editor, source)
            article = await stored_article(db, published.article_id)
            self.articles.append(article)
            self.bars.append(self._delivery_bar(article))
        self.phase = "delivering"
        polled = [a.poll for a in self.articles if a.poll is not None]
        self.main_poll = max(polled, key=lambda poll: len(poll.options), default=None)
        # Voting opens once the first article (the one with a poll) has reached every chat.
        first = self.articles[0]
        await self._wait(
            lambda: self._delivered(first) == len(self.chats),
            f"{first.title!r} delivered to every chat",
        )

    async def delivered(self) -> None:
        """Wait for the rest of the fan-out."""
        self.phase = "delivering"
        await self._wait(
            lambda: all(self._delivered(a) == len(self.chats) for a in self.articles),
            "every article delivered to every chat",
        )
        if (forum := self.forum) is not None:
            await self._wait(
                lambda: all(
                    forum.cards(self.emulator, topic, a.url)
                    for topic in forum.topics
                    for a in self.articles
                ),
                "every article delivered to each forum topic",
            )

    async def next_morning(self, zone: ZoneInfo) -> None:
        """The bot's clock moves to the digest reader's hour; their digest arrives."""
        self.phase = "next digest"
        _, ahead = next_hour(zone, self.clock())
        self.clock.ahead += ahead
        if self.application is not None:
            self.application.bot_data.digests.wake()
        await self._wait(
            lambda: bool(digests_in(self.emulator, self.digest_reader)),
            "the digest reader's daily digest",
        )

    async def vote(self) -> None:
        self.phase = "voting"
        opened = self._loop.time()
        polled = [
            replace(poll, turnout=MAIN_TURNOUT)
            if poll == self.main_poll
            # Other polls get fewer, earlier votes: their copies settle while voting goes on.
            else replace(poll, turnout=OTHER_TURNOUT, window=0.4)
            for poll in self.polls
        ]
        self.plans = plan_votes(
            polls=polled,
            readers=self.audience.readers,
            private_chat=self.emulator.private_chat,
            group_of=self.audience.group_of,
            channel=self.audience.channel,
            seconds=self.options.seconds,
        )
        taps = sum(len(plan.taps) for plan in self.plans)
        self.bars.append(lambda: Bar("voting", "taps answered", self.tally.answered, taps))
        await cast_votes(self.emulator, self.plans, card=self._card, tally=self.tally)
        # The voting phase lasts its seconds even when the last tap came early.
        await asyncio.sleep(max(0.0, opened + self.options.seconds - self._loop.time()))

    async def settle(self, db: Database) -> tuple[int, int]:
        """Wait until every poll copy shows the stored totals; return (up to date, all) copies."""
        self.phase = "updating poll copies"
        expected: dict[str, PollCopy] = {
            poll.article_url: await stored_copy(db, poll) for poll in self.polls
        }
        self.expected = expected

        def copies() -> tuple[int, int]:
            return count_current(self.emulator, self.chats, expected)

        def forum_settled() -> bool:
            forum = self.forum
            return (
                forum is None or check_forum(self.emulator, forum, list(expected), expected).passed
            )

        self.bars.append(lambda: Bar(self.phase, "poll copies up to date", *copies()))
        with contextlib.suppress(TimeoutError):
            await self.emulator.wait_for(
                lambda: len(set(copies())) == 1 and forum_settled(),
                timeout=SETTLE_TIMEOUT,
                what="every poll copy up to date",
            )
        return copies()

    async def summary(
        self, db: Database, copies: tuple[int, int], *, report_folder: Path
    ) -> DemoSummary:
        """The figures reached, every self-check, and the main article's report chart."""
        stored = {poll.poll_id: await stored_counts(db, poll.poll_id) for poll in self.polls}
        intended = {poll.poll_id: intended_counts(self.plans, poll) for poll in self.polls}
        titles = {article.url: article.title for article in self.articles}
        checks = (
            check_each_card_once(self.emulator, self.chats, titles),
            check_taps(self.tally.pressed, self.tally.answered, self.tally.failures),
            check_votes(
                stored,
                intended,
                changes=sum(plan.changed for plan in self.plans),
                retractions=sum(plan.retracted for plan in self.plans),
            ),
            check_copies(*copies, len(self.polls)),
            check_digest(self.emulator, self.digest_reader, titles),
            *(
                (check_forum(self.emulator, self.forum, list(titles), self.expected),)
                if self.forum is not None
                else ()
            ),
            check_no_flood(self.emulator),
        )
        live_totals = self.application.bot_data.live_totals if self.application else None
        return DemoSummary(
            readers=len(self.audience.readers),
            chats=len(self.chats),
            articles=len(self.articles),
            taps=self.tally.answered,
            votes=sum(sum(counts) for counts in stored.values()),
            poll_copies=copies[1],
            edits=live_totals.edits_sent if live_totals is not None else 0,
            errors_429=self.emulator.count_errors(429),
            seconds=self.elapsed(),
            checks=checks,
            resubscribed=self.resubscribed,
            report_chart=await self._report_chart(db, report_folder),
        )

    async def _report_chart(self, db: Database, folder: Path) -> Path | None:
        main = next(
            (a for a in self.articles if a.poll is not None and a.poll == self.main_poll), None
        )
        if main is None:
            return None
        return await write_report_chart(db, article_id=main.article_id, folder=folder)

    # --- helpers ----------------------------------------------------------------------------

    async def _wait(
        self, done: Callable[[], bool], what: str, *, timeout: float = DELIVERY_TIMEOUT
    ) -> None:
        try:
            await self.emulator.wait_for(done, timeout=timeout, what=what)
        except TimeoutError:
            raise DemoError(f"{self.phase}: waited {timeout:.0f} s for {what}") from None

    @property
    def polls(self) -> list[DemoPoll]:
        return [article.poll for article in self.articles if article.poll is not None]

    def _delivered(self, article: DemoArticle) -> int:
        return sum(1 for chat in self.chats if cards_in(self.emulator, chat, article.url))

    def _delivery_bar(self, article: DemoArticle) -> Callable[[], Bar]:
        label = f"delivered: {shorten(article.title, 40)}"
        return lambda: Bar("delivering", label, self._delivered(article), len(self.chats))

    def _card(self, chat: SimChat, url: str) -> SimMessage | None:
        found = cards_in(self.emulator, chat, url)
        return found[0] if found else None


@contextlib.asynccontextmanager
async def _redrawing(demo: Demo, db: Database) -> AsyncIterator[None]:
    task = asyncio.create_task(demo.redraw(db), name="demo-status")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        demo.view.show(await demo.status(db))


async def run_demo(options: DemoOptions, *, console: Console | None = None) -> DemoSummary:
    """Run the demo to its self-checked summary (and, with `keep`, until cancelled)."""
    console = console or Console()
    token = demo_token()
    with tempfile.TemporaryDirectory(prefix="newsdesk-demo-") as folder:
        db_path = options.db_path or Path(folder) / "demo.db"
        async with Emulator(web=True) as emulator:
            emulator.add_bot(token, username="newsdesk_demo_bot", first_name="Newsdesk")
            view = make_view(console)
            demo = Demo(options, emulator, view)
            settings = demo_settings(
                token, emulator, f"sqlite+aiosqlite:///{db_path}", demo.audience.editor.id
            )
            db = Database.connect(settings.database_url)
            application = build_application(settings, db, clock=demo.clock)
            async with polling(application, poll_timeout=1):
                demo.application = application
                with view:
                    async with _redrawing(demo, db):
                        await demo.subscribe()
                        await demo.choose(settings.zone)
                        await demo.publish(db)
                        await demo.vote()
                        await demo.delivered()
                        copies = await demo.settle(db)
                        await demo.next_morning(settings.zone)
                    demo.phase = "checking"
                    summary = await demo.summary(
                        db, copies, report_folder=chart_folder(options.db_path)
                    )
                print_summary(console, summary)
                if options.keep:
                    await _keep_running(console, emulator, db_path, demo.audience.editor)
    return summary


async def _keep_running(
    console: Console, emulator: Emulator, db_path: Path, editor: SimUser
) -> None:
    editor_name = f"{editor.first_name} {editor.last_name or ''}".strip()
    console.print(
        f"\nStill running. Web view: {emulator.web_url}\n"
        "  Use the bot by hand there: make users and groups, write and send files as anyone,\n"
        f"  press buttons. Act as {editor_name} (a bot admin) for /publish, /broadcast, /stats.\n"
        f"Bot API emulator: {emulator.base_url}<token>   database: {db_path}\n"
        "Press Ctrl+C to stop.",
        highlight=False,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    handled: list[signal.Signals] = []
    for signal_number in (signal.SIGINT, signal.SIGTERM):
        # Either signal ends the wait, so everything shuts down and the temporary files go.
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signal_number, stop.set)
            handled.append(signal_number)
    try:
        await stop.wait()
    finally:
        for handled_signal in handled:
            loop.remove_signal_handler(handled_signal)


def main(options: DemoOptions) -> int:
    """The command's body: 0 when every check passes, 1 otherwise."""
    configure_logging(logging.WARNING)
    console = Console()
    if not console.is_terminal:
        # Logs have no window to fit: a wider table keeps each check on one line.
        console = Console(width=120)
    try:
        summary = asyncio.run(run_demo(options, console=console))
    except DemoError as error:
        console.print(f"[bold red]demo failed[/bold red]: {error}", highlight=False)
        return 1
    except KeyboardInterrupt:
        return 1
    return 0 if summary.passed else 1

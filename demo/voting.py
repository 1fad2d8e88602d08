"""How the demo's readers vote: a burst as the cards arrive, then a tail; some change their mind.

`plan_votes` decides, from a seeded random generator, who votes on which poll, where (their
private chat, their group, or the channel), when, and whether they later switch to another
option or take the vote back. `cast_votes` plays the plan through the emulator, each tap a real
callback query the bot answers. The plan also says what the totals must be in the end.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial

from bot.telegram.callback_data import VoteTap, encode
from emulator.simulation import Emulator, SimChat, SimMessage, SimUser

CHANGE_SHARE = 0.10
RETRACT_SHARE = 0.05
GROUP_SHARE = 0.35  # of group members, how many vote on the group's copy
CHANNEL_SHARE = 0.08  # of the others, how many vote on the channel's copy
# A second tap on the same option this soon after the first counts as a double tap, not a
# retraction (POLL_DOUBLE_TAP_WINDOW); readers who retract wait longer than this.
RETRACT_AFTER = 1.5
PRESS_TIMEOUT = 15.0
CARD_WAIT = 120.0
# How the bot's answer to a tap begins when the tap was stored (bot.polls.votes).
_STORED_TOASTS = ("You voted: ", "Vote changed to ", "Vote removed")


@dataclass(frozen=True)
class DemoPoll:
    """A published poll the readers vote on, with how keen they are and what they prefer."""

    poll_id: int
    article_url: str
    question: str
    options: tuple[str, ...]
    # Relative popularity of each option.
    weights: tuple[float, ...]
    turnout: float = 0.5
    # Share of the voting period in which first taps come (the rest is for second thoughts).
    window: float = 1.0


@dataclass(frozen=True)
class PlannedTap:
    at: float  # seconds after voting opens
    position: int


@dataclass(frozen=True)
class VoterPlan:
    reader: SimUser
    poll: DemoPoll
    chat: SimChat
    taps: tuple[PlannedTap, ...]

    @property
    def changed(self) -> bool:
        return len(self.taps) > 1 and self.final_choice is not None

    @property
    def retracted(self) -> bool:
        return self.final_choice is None

    @property
    def final_choice(self) -> int | None:
        """The option the reader ends on: None after a retraction."""
        last = self.taps[-1].position
        retracted = len(self.taps) > 1 and self.taps[-2].position == last
        return None if retracted else last


@dataclass
class VotingTally:
    """What happened to the taps so far: pressed, answered, and any that failed."""

    pressed: int = 0
    answered: int = 0
    failures: list[str] = field(default_factory=list)


def default_weights(options: int) -> tuple[float, ...]:
    """Earlier options a little more popular, as on most real polls."""
    return tuple(float(options - position) + 1.0 for position in range(options))


def _first_tap_at(rng: random.Random, seconds: float) -> float:
    # Exponential: most readers vote within the first quarter, a tail keeps coming later.
    return min(rng.expovariate(4.0 / seconds), seconds * 0.8)


def _where(
    rng: random.Random, reader: SimUser, own: SimChat, group: SimChat | None, channel: SimChat
) -> SimChat:
    del reader
    if group is not None and rng.random() < GROUP_SHARE:
        return group
    if rng.random() < CHANNEL_SHARE:
        return channel
    return own


def plan_votes(
    *,
    polls: Sequence[DemoPoll],
    readers: Sequence[SimUser],
    private_chat: Callable[[SimUser], SimChat],
    group_of: dict[int, SimChat],
    channel: SimChat,
    seconds: float,
    seed: int = 2025,
) -> list[VoterPlan]:
    """Who votes where and when; the same seed gives the same plan."""
    rng = random.Random(seed)  # noqa: S311 - a demo's voting pattern, not a secret
    plans: list[VoterPlan] = []
    for poll in polls:
        positions = range(len(poll.options))
        for reader in readers:
            if rng.random() >= poll.turnout:
                continue
            chat = _where(rng, reader, private_chat(reader), group_of.get(reader.id), channel)
            first = PlannedTap(
                _first_tap_at(rng, seconds * poll.window), rng.choices(positions, poll.weights)[0]
            )
            taps = [first]
            luck = rng.random()
            # Second thoughts may come just after the voting period: the demo waits for them.
            later = first.at + rng.uniform(RETRACT_AFTER, 4.0)
            if luck < RETRACT_SHARE:
                taps.append(PlannedTap(later, first.position))
            elif luck < RETRACT_SHARE + CHANGE_SHARE and len(poll.options) > 1:
                other = rng.choice([p for p in positions if p != first.position])
                taps.append(PlannedTap(later, other))
            plans.append(VoterPlan(reader, poll, chat, tuple(taps)))
    return plans


def intended_counts(plans: Sequence[VoterPlan], poll: DemoPoll) -> tuple[int, ...]:
    """The counts the poll must show once every planned tap is stored."""
    counts = [0] * len(poll.options)
    for plan in plans:
        if plan.poll.poll_id == poll.poll_id and (choice := plan.final_choice) is not None:
            counts[choice] += 1
    return tuple(counts)


def first_taps_by(plans: Sequence[VoterPlan], at: float) -> int:
    return sum(1 for plan in plans for tap in plan.taps if tap.at <= at)


async def cast_votes(
    emulator: Emulator,
    plans: Sequence[VoterPlan],
    *,
    card: Callable[[SimChat, str], SimMessage | None],
    tally: VotingTally,
    concurrency: int = 32,
) -> None:
    """Play the plans in real time: each tap at its moment, `concurrency` at most at once."""
    loop = asyncio.get_running_loop()
    opened = loop.time()
    gate = asyncio.Semaphore(concurrency)

    async def play(plan: VoterPlan) -> None:
        answered_at: float | None = None
        the_card = partial(card, plan.chat, plan.poll.article_url)
        for tap in plan.taps:
            moment = opened + tap.at
            if answered_at is not None:
                # Measured from the bot's answer: a slow answer must not turn into a double tap.
                moment = max(moment, answered_at + RETRACT_AFTER)
            await asyncio.sleep(max(0.0, moment - loop.time()))
            try:
                # A reader votes once the card is there: fan-out may still be on its way.
                message = await emulator.wait_for(
                    the_card, timeout=CARD_WAIT, what="the card to vote on"
                )
            except TimeoutError:
                tally.failures.append(f"no card of poll {plan.poll.poll_id} in {plan.chat.id}")
                return
            data = encode(VoteTap(plan.poll.poll_id, tap.position))
            async with gate:
                tally.pressed += 1
                try:
                    answer = await emulator.press_button(
                        plan.reader, message, data=data, timeout=PRESS_TIMEOUT
                    )
                except (TimeoutError, LookupError) as error:
                    tally.failures.append(str(error))
                    return
            answered_at = loop.time()
            tally.answered += 1
            if not (answer.text or "").startswith(_STORED_TOASTS):
                tally.failures.append(f"tap answered {answer.text!r}")

    await asyncio.gather(*(play(plan) for plan in plans))

"""Quiet hours at claim time: of the rows the engine just claimed, the article cards and
non-urgent broadcasts whose chat is inside its quiet hours go back to pending, due when the
quiet hours end, in the claim's own transaction; the rest are sent.

Digests are not held: they come at the hour the reader chose. Urgent broadcasts are not held
either. Nothing is dropped and no attempt is counted; the row is sent at its new due time like
any other, through the same limits.
"""

from __future__ import annotations

from collections import OrderedDict
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.delivery.local_time import chat_zone, quiet_hours_end
from storage import quiet_hours
from storage.deliveries import ClaimedDelivery
from storage.models import DeliveryKind
from storage.quiet_hours import HeldRow

# The pushes quiet hours hold back.
_PUSHES = frozenset({DeliveryKind.ARTICLE, DeliveryKind.BROADCAST})
# Whether a broadcast is urgent never changes once it is sent: a few are remembered.
_REMEMBERED_BROADCASTS = 256


class QuietHours:
    """Holds claimed pushes back while their chat keeps quiet hours (in its zone, or `zone`)."""

    def __init__(self, zone: ZoneInfo) -> None:
        self._zone = zone
        self._urgent: OrderedDict[int, bool] = OrderedDict()

    async def hold(
        self, session: AsyncSession, rows: list[ClaimedDelivery], *, now: datetime
    ) -> list[ClaimedDelivery]:
        """The rows to send now; the others are put back to pending until their chat's quiet
        hours end."""
        pushes = [row for row in rows if row.kind in _PUSHES]
        if not pushes:
            return rows
        quiet = await quiet_hours.quiet_chats(session, chat_ids={row.chat_id for row in pushes})
        if not quiet:
            return rows
        urgent = await self._urgent_among(
            session,
            {row.item_id for row in pushes if row.kind is DeliveryKind.BROADCAST},
        )
        keep: list[ClaimedDelivery] = []
        held: list[HeldRow] = []
        for row in rows:
            settings = quiet.get(row.chat_id)
            end = None
            exempt = row.kind is DeliveryKind.BROADCAST and row.item_id in urgent
            if settings is not None and row.kind in _PUSHES and not exempt:
                zone = chat_zone(settings.timezone, self._zone)
                end = quiet_hours_end(now, zone, settings.quiet_from, settings.quiet_until)
            if end is None:
                keep.append(row)
            else:
                held.append(HeldRow(row.id, end))
        await quiet_hours.hold_rows(session, rows=held)
        return keep

    async def _urgent_among(self, session: AsyncSession, broadcast_ids: set[int]) -> set[int]:
        urgent = {item for item in broadcast_ids if self._urgent.get(item)}
        unknown = {item for item in broadcast_ids if item not in self._urgent}
        if unknown:
            found = await quiet_hours.urgent_broadcasts(session, broadcast_ids=unknown)
            urgent |= found
            for item in unknown:
                self._urgent[item] = item in found
            while len(self._urgent) > _REMEMBERED_BROADCASTS:
                self._urgent.popitem(last=False)
        return urgent

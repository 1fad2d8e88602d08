"""One bot's call of one method: the validated parameters with typed accessors, and the world."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from emulator.state import BotAccount, JsonObject, World


@dataclass
class Call:
    world: World
    bot: BotAccount
    params: dict[str, object]

    def raw(self, name: str) -> object:
        return self.params.get(name)

    def string(self, name: str) -> str | None:
        value = self.params.get(name)
        return value if isinstance(value, str) else None

    def integer(self, name: str) -> int | None:
        value = self.params.get(name)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        return None

    def flag(self, name: str) -> bool:
        return self.params.get(name) is True

    def obj(self, name: str) -> JsonObject | None:
        value = self.params.get(name)
        return value if isinstance(value, dict) else None

    def items(self, name: str) -> list[Any] | None:
        value = self.params.get(name)
        return value if isinstance(value, list) else None


Handler = Callable[[Call], Awaitable[object]]

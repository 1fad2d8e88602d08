"""How the readers receiving articles chose, in lines for /stats and /report: per delivery
mode, and per section they follow."""

from __future__ import annotations

from newsroom.plaintext import shorten
from storage.models import DeliveryMode
from storage.preferences import ReaderChoices

# The most followed sections are listed; the rest are counted in one "N more".
MAX_SECTIONS_SHOWN = 12
SECTION_CHARS = 32


def render_choices(choices: ReaderChoices) -> list[str]:
    """Two lines: chats receiving articles per delivery mode, and per section they follow (the
    most followed first, at most MAX_SECTIONS_SHOWN of them)."""
    modes = ", ".join(
        f"{mode.value} {choices.delivery_modes.get(mode, 0)}" for mode in DeliveryMode
    )
    ranked = sorted(choices.sections.items(), key=lambda item: (-item[1], item[0]))
    shown = [
        f"{shorten(name, SECTION_CHARS)} {count}" for name, count in ranked[:MAX_SECTIONS_SHOWN]
    ]
    if len(ranked) > MAX_SECTIONS_SHOWN:
        shown.append(f"{len(ranked) - MAX_SECTIONS_SHOWN} more")
    sections = "; ".join([f"all sections {choices.all_sections}", *shown])
    return [f"Readers by delivery: {modes}", f"Readers by section: {sections}"]

"""docs/BENCHMARKS.md from the figures: the table of targets, ratios, sizes and notes.

The file is generated whole; what is written by hand (how each scenario is measured, what the
profiles showed) lives in `notes.md` beside this module and is copied in below the table.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from benchmarks.harness import Machine

NOTES = Path(__file__).with_name("notes.md")

Figures = dict[str, dict[str, Any]]


@dataclass(frozen=True)
class Results:
    figures: Figures
    failures: dict[str, str]
    sizes: dict[str, Any]
    machine: Machine
    load_at_start: float
    when: datetime
    seconds: float


def _get(figures: Figures, name: str, key: str) -> Any:
    return figures.get(name, {}).get(key)


def _number(value: Any, digits: int = 0, unit: str = "") -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    text = f"{value:,.{digits}f}"
    return f"{text} {unit}".strip()


def _ratio(top: Any, bottom: Any) -> float | None:
    if top is None or bottom is None or bottom == 0:
        return None
    return float(top) / float(bottom)


def _times(value: float | None) -> str:
    if value is None:
        return "—"
    return f"**{value:,.0f}x**" if value >= 10 else f"**{value:,.1f}x**"


def _met(value: bool | None) -> str:
    if value is None:
        return "not measured"
    return "met" if value else "**not met**"


@dataclass(frozen=True)
class Row:
    scenario: str
    figure: str
    bot: str
    baseline: str
    ratio: str
    target: str
    met: bool | None
    # The periodic baseline's figure and the bot's ratio to it ("" where it has none).
    periodic: str = ""
    periodic_ratio: str = ""


def _edits_per_vote(figures: Figures) -> float | None:
    edits = _get(figures, "storm", "edits")
    votes = _get(figures, "storm", "votes")
    if edits is None or not votes:
        return None
    # The latency phase's taps are votes too.
    offered = _get(figures, "storm", "offered_rate") or 0.0
    return float(edits) / (float(votes) + float(offered) * _offered_seconds(figures))


def _offered_seconds(figures: Figures) -> float:
    return float(figures.get("_sizes", {}).get("offered_seconds", 0.0))


def _below(value: Any, limit: float) -> bool | None:
    return None if value is None else bool(value < limit)


def _at_least(value: Any, limit: float) -> bool | None:
    return None if value is None else bool(value >= limit)


def _unanswered(f: Figures) -> str:
    count = _get(f, "storm", "unanswered")
    if not count:
        return ""
    # Those taps count at the 30 s tap timeout: the quantiles are lower bounds.
    return f" or more ({count:,} taps never answered)"


def _periodic_latency(f: Figures, key: str) -> str:
    value = _get(f, "periodic_storm", key)
    if value is None:
        return ""
    text = _number(value, 0, "ms")
    unanswered = _get(f, "periodic_storm", "unanswered")
    if unanswered:
        # Those taps count at Telegram's 15 s callback timeout: a lower bound.
        offered = _get(f, "periodic_storm", "offered_taps")
        text += f" or more ({unanswered:,} of {offered:,} taps never answered)"
    return text


def _better(ratio: float | None, word: str, *, bound: bool = False) -> str:
    """The bot's ratio to the periodic baseline, in the direction where more is better."""
    if ratio is None:
        return ""
    return ("≥ " if bound else "") + _times(ratio) + (f" {word}" if word else "")


def _none_against(bot: Any, baseline: Any) -> str:
    """A count the bot keeps at zero has no ratio: say so against the baseline's."""
    if bot is None or baseline is None:
        return ""
    if bot == 0:
        return f"0 vs {_number(baseline)}"
    return _better(_ratio(baseline, bot), "fewer")


def _periodic_storm(f: Figures, per_vote: float | None) -> dict[str, dict[str, str]]:
    """The periodic baseline's cells in the storm rows, and the bot's ratio to each."""
    name = "periodic_storm"

    def cells(value: str, ratio: str = "") -> dict[str, str]:
        return {"periodic": value, "periodic_ratio": ratio}

    if name not in f:
        return {
            key: cells("") for key in ("votes", "p50", "p99", "message", "vote", "429", "conv")
        }
    unanswered = bool(_get(f, name, "unanswered"))
    converged = _get(f, name, "converged_after_s")
    ours_converged = _get(f, "storm", "converged_after_s")
    return {
        "votes": cells(
            _number(_get(f, name, "votes_per_second"), 1),
            _better(
                _ratio(_get(f, "storm", "votes_per_second"), _get(f, name, "votes_per_second")), ""
            ),
        ),
        "p50": cells(
            _periodic_latency(f, "latency_p50_ms"),
            _better(
                _ratio(_get(f, name, "latency_p50_ms"), _get(f, "storm", "latency_p50_ms")),
                "lower",
                bound=unanswered,
            ),
        ),
        "p99": cells(
            _periodic_latency(f, "latency_p99_ms"),
            _better(
                _ratio(_get(f, name, "latency_p99_ms"), _get(f, "storm", "latency_p99_ms")),
                "lower",
                bound=unanswered,
            ),
        ),
        "message": cells(_number(_get(f, name, "edits_per_message"), 1)),
        "vote": cells(
            _number(_get(f, name, "edits_per_vote"), 2),
            _better(_ratio(_get(f, name, "edits_per_vote"), per_vote), "fewer"),
        ),
        "429": cells(
            _number(_get(f, name, "errors_429")),
            _none_against(_get(f, "storm", "errors_429"), _get(f, name, "errors_429")),
        ),
        "conv": cells(
            "never" if converged is None else _number(converged, 1, "s"),
            "" if converged is None else _better(_ratio(converged, ours_converged), "sooner"),
        ),
    }


def _storm_rows(f: Figures) -> list[Row]:
    votes = _get(f, "storm", "votes_per_second")
    naive_votes = _get(f, "baseline_storm", "votes_per_second")
    speedup = _ratio(votes, naive_votes)
    per_vote = _edits_per_vote(f)
    naive_per_vote = _get(f, "baseline_storm", "edits_per_vote")
    fewer = _ratio(naive_per_vote, per_vote)
    converged = _get(f, "storm", "converged_after_s")
    naive_converged = _get(f, "baseline_storm", "converged_after_s")
    storm_ran = "storm" in f
    rate = _get(f, "storm", "offered_rate")
    periodic = _periodic_storm(f, per_vote)
    return [
        Row(
            "vote storm",
            "votes/s end to end (tap in, vote stored, answered)",
            _number(votes),
            _number(naive_votes, 1),
            _times(speedup),
            "≥ 1,000/s; ≥ 5x baseline",
            None if votes is None else votes >= 1000 and (speedup or 0) >= 5,
            **periodic["votes"],
        ),
        Row(
            "vote storm",
            f"answer latency p50 at {_number(rate)} votes/s offered",
            _number(_get(f, "storm", "latency_p50_ms"), 0, "ms"),
            "— (cannot keep up)",
            "",
            "< 30 ms at 300 votes/s",
            None
            if not storm_ran
            else _below(_get(f, "storm", "latency_p50_ms"), 30) and rate == 300,
            **periodic["p50"],
        ),
        Row(
            "vote storm",
            f"answer latency p99 at {_number(rate)} votes/s offered",
            _number(_get(f, "storm", "latency_p99_ms"), 0, "ms") + _unanswered(f),
            "— (cannot keep up)",
            "",
            "< 100 ms at 300 votes/s",
            None
            if not storm_ran
            else _below(_get(f, "storm", "latency_p99_ms"), 100) and rate == 300,
            **periodic["p99"],
        ),
        Row(
            "vote storm",
            "edits per poll message (whole run)",
            _number(_get(f, "storm", "edits_per_message"), 1),
            _number(_get(f, "baseline_storm", "edits_per_message"), 1),
            "",
            "",
            None if not storm_ran else True,
            **periodic["message"],
        ),
        Row(
            "vote storm",
            "edits per vote",
            _number(per_vote, 3),
            _number(naive_per_vote, 1),
            _times(fewer) + " fewer" if fewer is not None else "—",
            "≤ 1/20 of baseline's",
            None if fewer is None else fewer >= 20,
            **periodic["vote"],
        ),
        Row(
            "vote storm",
            "429 answers received",
            _number(_get(f, "storm", "errors_429")),
            _number(_get(f, "baseline_storm", "errors_429")),
            "",
            "0",
            None if not storm_ran else _get(f, "storm", "errors_429") == 0,
            **periodic["429"],
        ),
        Row(
            "vote storm",
            "every copy shows the final totals, after the last vote",
            "never" if storm_ran and converged is None else _number(converged, 1, "s"),
            "never"
            if "baseline_storm" in f and naive_converged is None
            else _number(naive_converged, 1, "s"),
            "",
            "≤ 5 s",
            None if not storm_ran else converged is not None and converged <= 5,
            **periodic["conv"],
        ),
        *_reaction_rows(f),
        *_webhook_rows(f),
    ]


def _webhook_rows(f: Figures) -> list[Row]:
    """The same storm with updates pushed by webhook and taps answered in the replies."""
    if "storm_webhook" not in f:
        return []
    rate = _get(f, "storm_webhook", "offered_rate")
    votes = _get(f, "storm_webhook", "votes_per_second")
    p50 = _get(f, "storm_webhook", "latency_p50_ms")
    p99 = _get(f, "storm_webhook", "latency_p99_ms")
    return [
        Row(
            "vote storm, webhook",
            "votes/s end to end (tap pushed, vote stored, answered in the reply)",
            _number(votes),
            "",
            "",
            "≥ 1,000/s",
            None if votes is None else votes >= 1000,
        ),
        Row(
            "vote storm, webhook",
            f"answer latency p50 / p99 at {_number(rate)} votes/s offered",
            _number(p50, 0, "ms") + " / " + _number(p99, 0, "ms"),
            "",
            "",
            "< 30 ms / < 100 ms at 300 votes/s",
            None
            if p50 is None or p99 is None
            else _below(p50, 30) and _below(p99, 100) and rate == 300,
        ),
        Row(
            "vote storm, webhook",
            "429 answers received; every copy shows the final totals, after the last vote",
            _number(_get(f, "storm_webhook", "errors_429"))
            + "; "
            + _number(_get(f, "storm_webhook", "converged_after_s"), 1, "s"),
            "",
            "",
            "0; ≤ 5 s",
            _get(f, "storm_webhook", "errors_429") == 0
            and (_get(f, "storm_webhook", "converged_after_s") or 99) <= 5,
        ),
    ]


def _reaction_rows(f: Figures) -> list[Row]:
    """The offered taps again, while readers react to the channel copies."""
    if _get(f, "storm", "reaction_updates") is None:
        return []
    rate = _get(f, "storm", "offered_rate")
    reactions = _get(f, "storm", "reaction_rate")
    plain = _get(f, "storm", "latency_p99_ms")
    reacting = _get(f, "storm", "reacting_p99_ms")
    stored = _get(f, "storm", "reactions_stored_after_s")
    slowed = None if plain is None or reacting is None else reacting <= max(plain * 1.2, plain + 5)
    return [
        Row(
            "vote storm + reactions",
            f"answer latency p50 / p99 at {_number(rate)} votes/s offered, with "
            f"{_number(reactions)} reaction updates/s",
            _number(_get(f, "storm", "reacting_p50_ms"), 0, "ms")
            + " / "
            + _number(reacting, 0, "ms"),
            "",
            "",
            "p99 within 20 % of the run without reactions",
            slowed,
        ),
        Row(
            "vote storm + reactions",
            f"{_number(_get(f, 'storm', 'reaction_updates'))} reaction updates: every count "
            "stored, after the last",
            "never" if stored is None else _number(stored, 2, "s"),
            "",
            "",
            "≤ 5 s",
            stored is not None and stored <= 5,
        ),
    ]


def _fanout_rows(f: Figures, sizes: dict[str, Any]) -> list[Row]:
    limited = _ratio(
        _get(f, "fanout_limited", "rate"), _get(f, "fanout_limited", "configured_rate")
    )
    naive_limited = _ratio(
        _get(f, "baseline_fanout_limited", "rate"),
        _get(f, "baseline_fanout_limited", "configured_rate"),
    )
    paid = _ratio(_get(f, "fanout_paid", "rate"), _get(f, "fanout_paid", "configured_rate"))
    lifted = _get(f, "fanout_lifted", "rate")
    naive_lifted = _get(f, "baseline_fanout_lifted", "rate")
    naive_429 = _get(f, "baseline_fanout_limited", "retry_after_seen")
    ours_429 = _get(f, "fanout_limited", "errors_429")
    periodic_limited = _ratio(
        _get(f, "periodic_fanout_limited", "rate"),
        _get(f, "periodic_fanout_limited", "configured_rate"),
    )
    periodic_429 = _get(f, "periodic_fanout_limited", "errors_429")
    periodic_lifted = _get(f, "periodic_fanout_lifted", "rate")
    rows = [
        Row(
            "fan-out, limits on",
            f"achieved rate / configured ({_number(_get(f, 'fanout_limited', 'configured_rate'))}"
            f"/s; baseline {_number(_get(f, 'baseline_fanout_limited', 'configured_rate'))}/s)",
            _number(None if limited is None else limited * 100, 1, "%"),
            _number(None if naive_limited is None else naive_limited * 100, 1, "%"),
            "",
            "≥ 95 %",
            None if limited is None else limited >= 0.95,
            periodic="" if periodic_limited is None else _number(periodic_limited * 100, 1, "%"),
        ),
        Row(
            "fan-out, limits on",
            "429 answers received (baseline: RetryAfter raised in the loop)",
            _number(ours_429),
            _number(naive_429),
            "",
            "0",
            None if ours_429 is None else ours_429 == 0,
            periodic="" if periodic_429 is None else _number(periodic_429),
            periodic_ratio=_none_against(ours_429, periodic_429),
        ),
        Row(
            "fan-out, paid broadcast",
            f"achieved rate / its own limit ({_number(_get(f, 'fanout_paid', 'configured_rate'))}"
            f"/s), {_number(_get(f, 'fanout_paid', 'errors_429'))} answers 429",
            _number(None if paid is None else paid * 100, 1, "%"),
            "",
            "",
            "≥ 95 %, no 429",
            None if paid is None else paid >= 0.95 and _get(f, "fanout_paid", "errors_429") == 0,
        ),
        Row(
            "fan-out, limits lifted",
            f"deliveries/s to {_number(sizes['lifted_subscribers'])} subscribers",
            _number(lifted),
            _number(naive_lifted),
            _times(_ratio(lifted, naive_lifted)),
            "≥ 2,000/s",
            _at_least(lifted, 2000),
            periodic="" if periodic_lifted is None else _number(periodic_lifted),
            periodic_ratio=_better(_ratio(lifted, periodic_lifted), ""),
        ),
    ]
    for size in sizes["memory_sizes"]:
        rss = _get(f, f"memory_{size}", "peak_rss_mib")
        rows.append(
            Row(
                "fan-out, memory",
                f"peak RSS, {_number(size)} subscribers",
                _number(rss, 0, "MiB"),
                _number(_get(f, f"baseline_memory_{size}", "peak_rss_mib"), 0, "MiB"),
                "",
                "flat, < 200 MB",
                None if rss is None else rss * 1.048576 < 200,
            )
        )
    return rows


def _other_rows(f: Figures) -> list[Row]:
    pages = _get(f, "ingest", "pages_per_second")
    start = _get(f, "startup", "median_seconds")
    return [
        Row(
            "ingest",
            f"pages/s, extraction + summary ({_number(_get(f, 'ingest', 'words'))} words)",
            _number(pages, 1),
            "",
            "",
            "≥ 50/s",
            _at_least(pages, 50),
        ),
        Row(
            "start-up",
            "process start to first getUpdates (median)",
            _number(start, 2, "s"),
            "",
            "",
            "< 1.5 s",
            _below(start, 1.5),
        ),
    ]


def rows(results: Results) -> list[Row]:
    figures = dict(results.figures)
    figures["_sizes"] = results.sizes
    return [
        *_storm_rows(figures),
        *_fanout_rows(figures, results.sizes),
        *_other_rows(figures),
    ]


def _sizes_text(sizes: dict[str, Any]) -> list[str]:
    s = sizes
    memory = " and ".join(f"{n:,}" for n in s["memory_sizes"])
    return [
        f"- Vote storm: {s['storm_votes']:,} votes from {s['storm_readers']:,} readers on one "
        f"poll shown in {s['storm_chats']} chats, {s['storm_concurrency']} taps in flight; then "
        f"{s['offered_rate']:.0f} votes/s offered for {s['offered_seconds']:.0f} s for latency. "
        f"Naive baseline: the same readers and chats, {s['baseline_concurrency']} taps in flight "
        f"for {s['baseline_storm_seconds']:.0f} s (it answers one tap at a time; more in flight "
        "would only expire). Periodic baseline: the same readers and chats, "
        f"{s['periodic_votes']:,} votes with {s['storm_concurrency']} taps in flight, then "
        f"{s['offered_rate']:.0f} votes/s offered for {s['periodic_offered_seconds']:.0f} s "
        "(last: the taps it cannot answer in time queue for minutes); its other copies "
        f"refreshed every {s['periodic_period']:.0f} s.",
        f"- Vote storm, webhook: the same with {s.get('webhook_votes', 0):,} votes, the updates "
        "pushed to the bot's webhook (the emulator keeps up to 100 pushes in flight, as "
        "Telegram does for the bot's max_connections) and each tap answered in the reply.",
        f"- Fan-out, limits on: {s['fanout_subscribers']:,} subscribers queued, the rate "
        f"measured over the first {s['limited_seconds']:.0f} s (a full run at 25/s takes "
        f"{s['fanout_subscribers'] / 25:.0f} s and shows the same rate).",
        f"- Fan-out, limits lifted: all of {s['lifted_subscribers']:,} subscribers, the "
        "emulator and the bot's limiter both lifted.",
        f"- Memory: {memory} subscribers seeded and queued, {s['memory_deliveries']:,} "
        "delivered to a sender without I/O.",
        f"- Ingest: {s['ingest_pages']} pages. Start-up: {s['startup_runs']} starts.",
    ]


def render(results: Results, *, command: str) -> str:
    table = [
        "| scenario | figure | bot | naive baseline | ratio | periodic baseline | ratio | "
        "target | met? |",
        "|---|---|---:|---:|---:|---:|---:|---|---|",
    ]
    for row in rows(results):
        met = "" if not row.target else _met(row.met)
        table.append(
            f"| {row.scenario} | {row.figure} | {row.bot} | {row.baseline or ''} | "
            f"{row.ratio} | {row.periodic} | {row.periodic_ratio} | {row.target} | {met} |"
        )
    failed = [f"- `{name}` did not finish: {why}" for name, why in results.failures.items()]
    notes = NOTES.read_text(encoding="utf-8").strip() if NOTES.exists() else ""
    parts = [
        "# Benchmarks",
        "",
        "Generated by the command below; do not edit by hand (the notes come from "
        "`benchmarks/notes.md`). Ratios to the two baselines (the naive bot, and the periodic "
        "bot users pick today) are the headline: absolute figures move from machine to "
        "machine, ratios measured in the same run much less.",
        "",
        f"- Command: `{command}` (`make bench`)",
        f"- Date: {results.when:%Y-%m-%d %H:%M} UTC; the whole run took "
        f"{results.seconds / 60:.1f} minutes",
        f"- Machine: {results.machine.describe()}; load average "
        f"{results.load_at_start:.1f} when the run began",
        "",
        "## Figures",
        "",
        *table,
        "",
        *(["## Scenarios that failed", "", *failed, ""] if failed else []),
        "## Sizes in this run",
        "",
        *_sizes_text(results.sizes),
        "",
        notes,
        "",
    ]
    return "\n".join(parts)

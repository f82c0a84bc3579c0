"""What ``reader pregen`` shows on the terminal: a progress bar with ETA, and a summary table.

On a terminal the bar redraws one line; anywhere else (a log file, CI) it prints a line per
finished article instead, so logs stay readable.
"""

from __future__ import annotations

import time
import unicodedata
from collections.abc import Callable, Sequence
from typing import TextIO

from reader.batch import FINISHED, State, Summary, Tally

#: Seconds between redraws of the bar: often enough to look alive, rarely enough to be cheap.
REDRAW_SECONDS = 0.2
BAR_WIDTH = 24


class Progress:
    """Follows a batch's tallies and draws them on ``out`` (standard error)."""

    def __init__(self, tallies: Sequence[Tally], out: TextIO, *, live: bool,
                 dry_run: bool = False, clock: Callable[[], float] = time.monotonic) -> None:
        self.tallies = tallies
        self.out = out
        self.live = live
        self.dry_run = dry_run
        self._clock = clock
        self._started = clock()
        self._drawn = 0.0
        self._reported: set[int] = set()

    def update(self, tally: Tally) -> None:
        """A tally changed: report it if it finished; redraw the bar now and then."""
        if tally.state in FINISHED and id(tally) not in self._reported:
            self._reported.add(id(tally))
            if not self.live:
                self.out.write(f"{self._count()} {finished_line(tally, self.dry_run)}\n")
                self.out.flush()
        now = self._clock()
        if self.live and (now - self._drawn >= REDRAW_SECONDS or tally.state in FINISHED):
            self._drawn = now
            self.out.write("\r\x1b[K" + self.bar(now))
            self.out.flush()

    def close(self) -> None:
        if self.live:
            self.out.write("\r\x1b[K")
            self.out.flush()

    def fraction(self) -> float:
        """Share of the batch done: finished articles whole, running ones by their clips."""
        if not self.tallies:
            return 1.0
        done = 0.0
        for tally in self.tallies:
            if tally.state in FINISHED:
                done += 1
            elif tally.segments:
                done += tally.spoken / tally.segments
        return done / len(self.tallies)

    def eta(self, now: float) -> float | None:
        """Seconds left, from the pace so far; None until there is a pace to go by."""
        fraction = self.fraction()
        elapsed = now - self._started
        if fraction <= 0 or elapsed <= 0:
            return None
        return elapsed * (1 - fraction) / fraction

    def bar(self, now: float) -> str:
        fraction = self.fraction()
        filled = round(BAR_WIDTH * fraction)
        clips = sum(t.spoken for t in self.tallies)
        eta = self.eta(now)
        left = "--:--" if eta is None else clock_time(eta)
        return (f"[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {fraction:4.0%}"
                f"  {self._count()} articles  {clips} clips  ETA {left}")

    def _count(self) -> str:
        finished = sum(t.state in FINISHED for t in self.tallies)
        return f"{finished}/{len(self.tallies)}"


def clock_time(seconds: float) -> str:
    """1:05, or 1:02:05 from an hour up."""
    whole = max(0, round(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def finished_line(tally: Tally, dry_run: bool = False) -> str:
    name = tally.title or tally.label
    if tally.state is State.DONE and dry_run:
        return f"would make {tally.new} clips, reuse {tally.reused}: {name}"
    if tally.state is State.DONE:
        return f"done: {name} ({tally.new} new, {tally.reused} reused)"
    return f"{tally.state.value}: {tally.label}: {_reason(tally.label, tally.error)}"


def _reason(label: str, error: str | None) -> str:
    """The error without the label it may start with already ("x.txt: no such file",
    "x.txt has no articles")."""
    return (error or "see the summary").removeprefix(f"{label}: ").removeprefix(f"{label} ")


def counted(n: int, noun: str) -> str:
    """1 article, 2 articles."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


#: The same failure for more inputs than this is one line with a count, not a line each
#: (a sitemap of 500 URLs on a site that is down).
SAME_FAILURE_LINES = 3


# ---------------------------------------------------------------- the summary table


def width(text: str) -> int:
    """Columns ``text`` takes on a terminal: wide (CJK) characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def clip_to(text: str, columns: int) -> str:
    """``text`` cut to at most ``columns`` terminal columns, with … when cut."""
    if width(text) <= columns:
        return text
    out, used = "", 0
    for ch in text:
        if used + width(ch) > columns - 1:
            break
        out += ch
        used += width(ch)
    return out + "…"


def _pad(text: str, columns: int, right: bool = False) -> str:
    gap = " " * max(0, columns - width(text))
    return gap + text if right else text + gap


def minutes(ms: float) -> str:
    return f"{ms / 60000:.1f}"


def summary_table(summary: Summary, title_columns: int = 36) -> str:
    """The table printed at the end: a row per article, totals, then every failure."""
    new_head = "to make" if summary.dry_run else "new"
    heads = ["article", "state", "segments", new_head, "reused", "minutes"]
    rows = [[clip_to(t.title or t.label, title_columns), _state(t, summary.dry_run),
             str(t.segments),
             str(t.new), str(t.reused), minutes(t.audio_ms)] for t in summary.tallies]
    ok = sum(t.state is State.DONE for t in summary.tallies)
    done = "ready" if summary.dry_run else "done"
    total = [f"{counted(len(summary.tallies), 'article')}, {ok} {done}", "",
             str(int(summary.total("segments"))), str(int(summary.total("new"))),
             str(int(summary.total("reused"))), minutes(summary.total("audio_ms"))]
    widths = [max(width(row[i]) for row in [heads, *rows, total]) for i in range(len(heads))]

    def line(cells: list[str]) -> str:
        return "  ".join(_pad(c, widths[i], right=i >= 2) for i, c in enumerate(cells)).rstrip()

    rule = "  ".join("-" * w for w in widths)
    out = [line(heads), rule, *(line(r) for r in rows), rule, line(total)]
    out += _notes(summary)
    return "\n".join(out) + "\n"


def _state(tally: Tally, dry_run: bool) -> str:
    return "ready" if dry_run and tally.state is State.DONE else tally.state.value


def _notes(summary: Summary) -> list[str]:
    notes: list[str] = []
    fallback = int(summary.total("fallback"))
    if fallback:
        notes.append(f"{fallback} clips were spoken by a fallback engine: their articles play,"
                     " but run again when the primary voice is back to replace them.")
    replaced = sum(t.replaces is not None for t in summary.tallies)
    if replaced:
        notes.append(f"{counted(replaced, 'article')} changed since the last run: only the"
                     " changed sentences were made again (the reused column counts the rest).")
    failures = [(t.label, _reason(t.label, t.error or t.state.value)) for t in summary.tallies
                if t.state in {State.FAILED, State.PARTIAL, State.CANCELLED}]
    failures += [(p.label, _reason(p.label, p.message)) for p in summary.problems]
    if failures:
        notes.append(f"{len(failures)} failed:")
        notes += _failure_lines(failures)
    notes.append("dry run: nothing was synthesised or stored" if summary.dry_run
                 else f"took {clock_time(summary.seconds)}")
    return notes


def _failure_lines(failures: list[tuple[str, str]]) -> list[str]:
    """A line per failure; the same reason for many inputs once, with a count."""
    by_reason: dict[str, list[str]] = {}
    for label, reason in failures:
        by_reason.setdefault(reason, []).append(label)
    lines: list[str] = []
    for reason, labels in by_reason.items():
        if len(labels) <= SAME_FAILURE_LINES:
            lines += [f"  {label}: {reason}" for label in labels]
        else:
            lines.append(f"  {labels[0]} and {len(labels) - 1} more: {reason}")
    return lines

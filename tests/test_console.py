"""The terminal side of ``reader pregen``: the progress bar, its ETA, the summary table."""

from __future__ import annotations

import io

from reader.batch import State, Summary, Tally
from reader.console import Progress, clip_to, clock_time, summary_table, width
from reader.sources import Problem


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_the_bar_counts_finished_articles_and_clips_and_estimates_the_rest() -> None:
    tallies = [Tally("a.txt"), Tally("b.txt")]
    out, clock = io.StringIO(), Clock()
    progress = Progress(tallies, out, live=True, clock=clock)
    assert progress.eta(clock.now) is None  # no pace yet

    tallies[0].state, tallies[0].segments = State.RUNNING, 10
    tallies[0].new = 5
    clock.now += 10  # a quarter of the batch in 10 s: 30 s to go
    progress.update(tallies[0])
    assert progress.fraction() == 0.25
    assert out.getvalue().endswith("[######..................]  25%  0/2 articles  5 clips"
                                   "  ETA 0:30")

    tallies[0].new, tallies[0].state = 10, State.DONE
    clock.now += 10
    progress.update(tallies[0])
    assert "1/2 articles  10 clips  ETA 0:20" in out.getvalue().rsplit("\r", 1)[-1]
    progress.close()
    assert out.getvalue().endswith("\r\x1b[K")


def test_off_a_terminal_each_finished_article_is_one_line() -> None:
    tallies = [Tally("a.txt", title="夜间公交试运行"), Tally("b.txt")]
    out = io.StringIO()
    progress = Progress(tallies, out, live=False)
    tallies[0].state, tallies[0].new, tallies[0].reused = State.DONE, 3, 1
    progress.update(tallies[0])
    progress.update(tallies[0])  # reported once only
    tallies[1].state, tallies[1].error = State.FAILED, "b.txt: nothing to read"
    progress.update(tallies[1])
    assert out.getvalue().splitlines() == [
        "1/2 done: 夜间公交试运行 (3 new, 1 reused)",
        "2/2 failed: b.txt: nothing to read",  # the label once
    ]


def test_the_summary_lines_up_chinese_titles_and_lists_every_failure() -> None:
    done = Tally("a.txt", State.DONE, title="夜间公交试运行", segments=4, new=3, reused=1,
                 audio_ms=90_000)
    long = Tally("b.txt", State.DONE, title="一个很长很长很长很长很长很长很长很长很长的标题",
                 segments=2, new=0, reused=2, audio_ms=30_000, replaces="0" * 32)
    failed = Tally("c.txt", State.FAILED, error="nothing to read")
    summary = Summary([done, long, failed], [Problem("x.txt", "x.txt: no such file")], 65.0)

    lines = summary_table(summary).splitlines()

    rows = lines[:6]
    assert len({width(line.split("  done")[0]) for line in rows[2:4]}) == 1  # aligned
    assert "…" in rows[3]
    assert lines[6].split()[-4:] == ["6", "3", "3", "2.0"]
    assert "1 article changed since the last run" in lines[7]
    assert lines[8:11] == ["2 failed:", "  c.txt: nothing to read", "  x.txt: no such file"]
    assert lines[-1] == "took 1:05"


def test_dry_run_summary_says_to_make_and_that_nothing_was_stored() -> None:
    table = summary_table(Summary([Tally("a.txt", State.DONE, new=2)], dry_run=True))
    assert table.splitlines()[0].split()[3:5] == ["to", "make"]
    assert table.endswith("dry run: nothing was synthesised or stored\n")


def test_helpers() -> None:
    assert clock_time(59.6) == "1:00" and clock_time(3725) == "1:02:05"
    assert width("ab中文") == 6 and clip_to("中文中文", 5) == "中文…"


def test_the_same_failure_for_many_inputs_is_one_line() -> None:
    down = [Tally(f"https://site.example/{n}.html", State.FAILED, error="the site is down")
            for n in range(5)]
    lines = summary_table(Summary(down)).splitlines()
    assert lines[-3:] == ["5 failed:",
                          "  https://site.example/0.html and 4 more: the site is down",
                          "took 0:00"]
    assert "5 articles, 0 done" in summary_table(Summary(down))


def test_a_dry_run_lists_articles_as_ready() -> None:
    table = summary_table(Summary([Tally("a.txt", State.DONE, new=2)], dry_run=True))
    assert table.splitlines()[2].split()[1] == "ready" and "1 article, 1 ready" in table

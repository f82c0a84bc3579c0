"""NeMo-text-processing's Chinese normalisation cases as a golden table for the full level.

The cases are in ``tests/fixtures/tn/nemo/`` (see its SOURCES.md): one ``input~expected`` a line.
How they are judged (the corpus's own notes, made exact here):

* ``whitelist`` is out of scope: it only restores capitals (nba -> NBA), and news copy is cased.
* A case with no Han character is put in a Chinese sentence (``FRAME``) on both sides, since a
  text without Chinese characters is English to ``normalize`` and keeps its digits.
* Readings a listener hears as the same are the same (``spoken_form``): 〇 and 零, 幺 and 一,
  两 and 二 before 百千万亿, 号 and 日 after a numeral, 零一十 and 零十 inside a number
  (一百亿零一十万, the school form, and 一百亿零十万), a 零 before one-digit minutes and seconds or
  not (三点零四分, the broadcast form, and 三点四分), a pause (space) next to a Han character,
  and a run of capitals with no vowel written spaced (``P C``) or not (``PC``): a voice can only
  spell it.
* Where our reading differs and a Chinese listener would prefer ours, the case is in
  ``KNOWN_DEVIATIONS`` with what we say and why; the test pins that reading too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from reader.normalize import normalize

NEMO = Path(__file__).resolve().parent / "fixtures" / "tn" / "nemo"

#: Categories judged, and the one left out with the reason.
OUT_OF_SCOPE = {"whitelist": "restores capitals (nba -> NBA); news copy is already cased"}

#: A bare fragment (no Han character) is judged inside this sentence.
FRAME = ("他写下", "。")

#: The share of in-scope cases that must read as NeMo expects (known deviations count as misses).
TARGET = 0.95


@dataclass(frozen=True, slots=True)
class Case:
    category: str
    line: int
    text: str
    expected: str

    @property
    def id(self) -> str:
        return f"{self.category}:{self.line}:{self.text}"


def load_cases() -> list[Case]:
    """Every case of every category file, in file order (duplicates kept: they are the table)."""
    cases = []
    for path in sorted(NEMO.glob("*.txt")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if line.strip():
                text, _, expected = line.strip().partition("~")
                cases.append(Case(path.stem, number, text, expected))
    return cases


CASES = load_cases()
IN_SCOPE = [case for case in CASES if case.category not in OUT_OF_SCOPE]

_HAN = re.compile(r"[\u3007\u4e00-\u9fff]")
_NUMERAL = "〇零一二三四五六七八九十百千万亿两幺"
_SPACE_BY_HAN = re.compile(r"\s*([\u3007\u4e00-\u9fff，。、：；！？“”（）])\s*")
_SPELLED = re.compile(r"(?<![A-Za-z])[A-Z](?: [A-Z])+(?![A-Za-z])")


def framed(text: str, source: str | None = None) -> str:
    """The text as judged: a bare fragment inside a Chinese sentence. An expected reading is
    framed when its ``source`` (the case's input) is bare."""
    return text if _HAN.search(source or text) else FRAME[0] + text + FRAME[1]


def _join_unvoiced(m: re.Match[str]) -> str:
    joined = m.group().replace(" ", "")
    return joined if not set(joined) & set("AEIOU") else m.group()


def spoken_form(text: str) -> str:
    """What a listener tells apart, and no more (see the module docstring)."""
    text = text.replace("〇", "零").replace("幺", "一")
    text = re.sub(r"两(?=[百千万亿])", "二", text)
    text = re.sub(rf"(?<=[{_NUMERAL}])号", "日", text)
    text = text.replace("零一十", "零十")
    text = re.sub(r"(?<=[点分])零(?=[一二三四五六七八九][分秒])", "", text)
    text = _SPACE_BY_HAN.sub(r"\1", text)
    return _SPELLED.sub(_join_unvoiced, text)


def reads_as_expected(case: Case) -> bool:
    ours = normalize(framed(case.text), "full")
    return spoken_form(ours) == spoken_form(framed(case.expected, case.text))


#: Cases where we say something else on purpose: input -> (what we say, why a Chinese listener
#: prefers it). Keyed by input, so a duplicated case is covered by one row.
_AM = "am and pm are English; a Chinese newsreader says 上午/下午 before the time"
KNOWN_DEVIATIONS: dict[str, tuple[str, str]] = {
    "50年": ("五十年", "50年 alone counts fifty years far more often (成立50年); a two-digit "
             "year is read as one with a leading zero (05年) or a month after it (86年8月)"),
    "-23°C": ("零下二十三摄氏度", "temperatures below zero are said 零下, as every weather report"),
    "￥5": ("五元", "¥ before an amount is the renminbi, whose unit is 元; 五人民币 is colloquial"),
    "00:00:00": ("零点整", "midnight on the hour is said 零点整, not 零点零分零秒"),
    "03:04:05am": ("上午三点零四分零五秒", _AM),
    "03:04pm": ("下午三点零四分", _AM),
    "10:04am": ("上午十点零四分", _AM),
    "10:04pm": ("下午十点零四分", _AM),
    "3点4分5秒am": ("上午三点四分五秒", _AM),
    "5点差4分am": ("上午五点差四分", _AM),
    "13:10pm": ("十三点十分", "a 24-hour time already says the half of the day; pm read as letters "
                "after it is noise"),
    "CSI侧重科学办案，也就是现场搜正和鉴识。": (
        "C S I侧重科学办案，也就是现场搜正和鉴识。",
        "CSI is said letter by letter; left whole, a voice tries to read it as one word"),
    "可以推断此次NTT可能也会将同样的策略用在LTE上。": (
        "可以推断此次N T T可能也会将同样的策略用在L T E上。",
        "LTE is said letter by letter (NTT reads the same either way: no vowel)"),
    "这些程式都支援PRE与ITUNES同步化。": (
        "这些程式都支援P R E与ITUNES同步化。",
        "PRE is no English word (a prefix) and is spelled like CSI and LTE; here it names the Palm"
        " Pre, which only a product dictionary would know (a lexicon entry can teach it)"),
}


def _ids(cases: list[Case]) -> list[str]:
    return [case.id for case in cases]


@pytest.mark.parametrize("case", IN_SCOPE, ids=_ids(IN_SCOPE))
def test_case(case: Case) -> None:
    if case.text in KNOWN_DEVIATIONS:
        ours, _reason = KNOWN_DEVIATIONS[case.text]
        assert normalize(framed(case.text), "full") == framed(ours, case.text)
        assert not reads_as_expected(case), "no longer a deviation: remove it from the table"
    else:
        assert spoken_form(normalize(framed(case.text), "full")) == spoken_form(
            framed(case.expected, case.text))


def test_pass_rate() -> None:
    passed = sum(case.text not in KNOWN_DEVIATIONS for case in IN_SCOPE)
    assert passed / len(IN_SCOPE) >= TARGET, f"{passed}/{len(IN_SCOPE)} in scope read as expected"


def test_table_is_whole() -> None:
    """The fixture is NeMo's 367 cases (360 line ends: six files end without one), and every
    deviation names one of them."""
    assert len(CASES) == 367
    assert {case.category for case in CASES} >= set(OUT_OF_SCOPE)
    inputs = {case.text for case in IN_SCOPE}
    assert set(KNOWN_DEVIATIONS) <= inputs


def test_spoken_form_tells_readings_apart() -> None:
    """The equivalences are narrow: a spelled word with a vowel, or another digit, still differs."""
    assert spoken_form("二〇二五年 P C") == spoken_form("二零二五年PC")
    assert spoken_form("G O O G L E") != spoken_form("GOOGLE")
    assert spoken_form("两个") != spoken_form("二个")
    assert spoken_form("三点零四分零五秒") == spoken_form("三点四分五秒")
    assert spoken_form("三点零四分") != spoken_form("三点十四分")
    assert spoken_form("一百零五") != spoken_form("一百五")

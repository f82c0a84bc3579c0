"""The audio check report: the sentences a voice may get wrong, for an editor to hear.

Before an article is published an editor listens to every sentence whose text is risky for
speech and fixes what is misread through the pronunciation lexicon (``reader lexicon add WORD
SAY``, or editing ``voices/lexicon-zh.tsv``); ``reader pregen`` then re-synthesises only the
sentences whose lexicon entries changed::

    Segment -> risks_of()      -> Risk (kind, detail), each distinct trigger once
    CheckRow                   one risky sentence: what was spoken, its risks, its clip
    CheckedArticle             an article's risky rows, in reading order
      -> check_report()        one self-contained HTML page (no external resources, no build)

Risk kinds, in display order (``RISK_KINDS``): the ones most likely misread first, so the first
risk of a sentence is the one its prefilled lexicon command names.

* ``polyphone``: a character read two ways (重 zhòng/chóng), from ``voices/polyphones-zh.tsv``,
  unless it stands inside a word listed there as settled (重庆, 银行).
* ``rare``: a Han character outside the 3,755 commonest simplified ones (GB 2312 level 1) and
  outside Big5's common set, so traditional-character articles are not flagged throughout.
* ``latin``: a run of Latin letters (GDP, iPhone): read as letters, a word or an English word?
* ``document``: a document number (渝府发〔2025〕12号): its year and number must be read right.
* ``number``: a run of digits (2025, 3.14): year, quantity or code?
* ``lexicon``: a lexicon entry the sentence used (行长 → 航长), to hear that the fix sounds right.

Triggers come from the display text, which the editor reads with them highlighted. A trigger
wholly inside a lexicon word the sentence used is not reported again: the lexicon has decided
how it is said, and the entry itself is the ``lexicon`` risk. Digits inside a document number
are reported once, as the document number.
"""

from __future__ import annotations

import base64
import functools
import html
import re
import shlex
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from reader.config import data_dir
from reader.errors import ConfigError
from reader.types import Segment

__all__ = [
    "POLYPHONES_FILE",
    "RISK_KINDS",
    "RISK_LABELS",
    "CheckRow",
    "CheckedArticle",
    "Polyphone",
    "Risk",
    "check_report",
    "data_uri",
    "entry_word",
    "lexicon_command",
    "load_polyphones",
    "parse_polyphones",
    "risks_of",
    "shipped_polyphones",
]

#: Risk kinds in display order: the likeliest to be misread first.
RISK_KINDS: tuple[str, ...] = ("polyphone", "rare", "latin", "document", "number", "lexicon")

#: What the report calls each kind: (Chinese, English).
RISK_LABELS: Mapping[str, tuple[str, str]] = MappingProxyType({
    "polyphone": ("多音字", "polyphone"),
    "rare": ("生僻字", "rare character"),
    "latin": ("外文字母", "Latin letters"),
    "document": ("文号", "document number"),
    "number": ("数字", "number"),
    "lexicon": ("词典条目", "lexicon entry"),
})

#: Joins a lexicon entry's word and reading in a ``lexicon`` risk's detail.
LEXICON_ARROW = " → "


@dataclass(frozen=True, slots=True)
class Risk:
    """Something in a sentence that a voice may read wrong."""

    kind: str  # one of ``RISK_KINDS``
    detail: str  # what triggered it, as shown: "2025", "重 (zhòng / chóng)", "行长 → 航长"

    def __post_init__(self) -> None:
        if self.kind not in RISK_KINDS:
            raise ValueError(f"unknown risk kind {self.kind!r}; expected one of {RISK_KINDS}")

    @property
    def word(self) -> str:
        """The display text that triggered it: what is highlighted, and what an entry replaces."""
        if self.kind == "polyphone":
            return self.detail.partition(" (")[0]
        if self.kind == "lexicon":
            return self.detail.partition(LEXICON_ARROW)[0]
        return self.detail

    @property
    def say(self) -> str:
        """The reading a lexicon command is prefilled with: the entry's own for ``lexicon``,
        else the word itself (a no-op entry until the editor changes it)."""
        if self.kind == "lexicon":
            return self.detail.partition(LEXICON_ARROW)[2]
        return self.word


# ---------------------------------------------------------------- polyphones data

#: The shipped polyphone file, in the voices data folder.
POLYPHONES_FILE = "polyphones-zh.tsv"


@dataclass(frozen=True, slots=True)
class Polyphone:
    """A character read more than one way, as ``voices/polyphones-zh.tsv`` describes it."""

    char: str  # the character: "重"
    readings: str  # its readings, shown to the editor: "zhòng / chóng"
    examples: str = ""  # a word for each reading, for people editing the file
    settled: tuple[str, ...] = ()  # words holding it whose reading every voice gets right


def parse_polyphones(text: str, origin: str = "<polyphones>") -> dict[str, Polyphone]:
    """Entries of a polyphone file: ``char<TAB>readings[<TAB>examples[<TAB>settled words]]``.

    ``#`` lines and blank lines are ignored; a malformed line raises ``ConfigError`` naming it.
    """
    table: dict[str, Polyphone] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        entry = _polyphone(raw.split("\t"), f"{origin}:{number}")
        table[entry.char] = entry
    return table


def _polyphone(fields: list[str], where: str) -> Polyphone:
    """One line's entry, checked."""
    fields = [f.strip() for f in fields]
    if not 2 <= len(fields) <= 4 or len(fields[0]) != 1 or not fields[1]:
        raise ConfigError(f"{where}: expected 'char<TAB>readings<TAB>examples<TAB>settled words'"
                          f" with one character first, got {chr(9).join(fields)!r}")
    char, readings = fields[0], fields[1]
    settled = tuple(fields[3].split()) if len(fields) == 4 else ()
    stray = [word for word in settled if char not in word]
    if stray:
        raise ConfigError(f"{where}: settled words must contain {char!r}: {' '.join(stray)}")
    return Polyphone(char, readings, fields[2] if len(fields) > 2 else "", settled)


def load_polyphones(path: Path) -> dict[str, Polyphone]:
    """Read a polyphone file; an unreadable one is a ``ConfigError``."""
    try:
        content = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read polyphones {path}: {exc}") from exc
    return parse_polyphones(content, str(path))


@functools.cache
def shipped_polyphones() -> Mapping[str, Polyphone]:
    """The shipped ``voices/polyphones-zh.tsv``, read on first use and kept (read-only)."""
    return MappingProxyType(load_polyphones(data_dir("voices") / POLYPHONES_FILE))


# ---------------------------------------------------------------- finding risks

#: A trigger in the display text: start, end, and the risk it raises.
_Hit = tuple[int, int, Risk]

#: Digit runs, ASCII or full-width; a decimal point or thousands comma keeps one number whole
#: (3.14 and 100,000 are one trigger each; the Chinese comma ， separates numbers).
_NUMBER = re.compile(r"[0-9０-９]+(?:[.,．][0-9０-９]+)*")

#: Runs of Latin letters, ASCII, accented (pinyin with tone marks) or full-width.
_LATIN = re.compile(r"[A-Za-zÀ-ÖØ-öø-ɏＡ-Ｚａ-ｚ]+")

#: Document numbers: issuer〔year〕N号, with the brackets people type for 〔〕. The bracket part
#: mirrors the private ``_DOCNUM`` rule in normalize.py (which matches no issuer, and ASCII
#: digits only because width is normalised before it runs); the issuer is the Han characters
#: just before the bracket, trimmed by ``_issuer``.
_DOCUMENT = re.compile(
    r"(?P<issuer>[\u4e00-\u9fff]{0,8})"
    r"[〔\[【(（][12１２][0-9０-９]{3}[〕\]】)）]\s?第?[0-9０-９]{1,6}\s?号")

#: Words that lead into a document number without being part of its issuer (根据国发〔2024〕3号,
#: 贯彻落实渝府发...): the issuer starts after the last of them. Single characters that occur
#: inside issuers (经 in 渝经信发, 发 in 发改) are deliberately absent.
_LEAD_INS = re.compile(r".*(?:根据|依据|按照|参照|依照|遵照|对照|印发|转发|执行|落实|贯彻|关于|通过"
                       r"|的|和|及|与|见|即)")

#: An issuer is at most this long (国卫办医发 is five); longer runs keep their last characters.
_ISSUER_MAX = 6

#: Han ideographs: the unified block, extension A, compatibility ideographs, extensions B on.
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]")

#: GB 2312 level 1: the 3,755 commonest simplified characters, in pinyin order.
_GB2312_COMMON = (0xB0A1, 0xD7F9)
#: Big5's common characters (常用字), 5,401 of them: its traditional counterpart.
_BIG5_COMMON = (0xA440, 0xC67E)


def _code(char: str, encoding: str) -> int | None:
    """The character's two-byte code in ``encoding``, or None if it has none."""
    try:
        encoded = char.encode(encoding)
    except UnicodeEncodeError:
        return None
    return int.from_bytes(encoded, "big") if len(encoded) == 2 else None


@functools.lru_cache(maxsize=8192)
def _is_rare(char: str) -> bool:
    """A Han character in neither common set."""
    if not _HAN.fullmatch(char):
        return False
    for encoding, (low, high) in (("gb2312", _GB2312_COMMON), ("big5", _BIG5_COMMON)):
        code = _code(char, encoding)
        if code is not None and low <= code <= high:
            return False
    return True


def _issuer(issuer: str) -> str:
    """The issuer part of a document number's leading Han run (see ``_LEAD_INS``)."""
    lead = _LEAD_INS.match(issuer)
    rest = issuer[lead.end():] if lead else issuer
    return rest[-_ISSUER_MAX:]


def _documents(text: str) -> Iterator[_Hit]:
    for m in _DOCUMENT.finditer(text):
        start = m.end("issuer") - len(_issuer(m["issuer"]))
        yield start, m.end(), Risk("document", text[start:m.end()])


def _runs(text: str, pattern: re.Pattern[str], kind: str) -> Iterator[_Hit]:
    for m in pattern.finditer(text):
        yield m.start(), m.end(), Risk(kind, m.group())


def _rare(text: str) -> Iterator[_Hit]:
    for index, char in enumerate(text):
        if _is_rare(char):
            yield index, index + 1, Risk("rare", char)


def _polyphones(text: str, table: Mapping[str, Polyphone]) -> Iterator[_Hit]:
    present = {table[char] for char in set(text) if char in table}
    settled = _covered(text, (word for entry in present for word in entry.settled))
    for index, char in enumerate(text):
        entry = table.get(char)
        if entry is not None and index not in settled:
            yield index, index + 1, Risk("polyphone", f"{char} ({entry.readings})")


def _covered(text: str, words: Iterable[str]) -> set[int]:
    """Offsets of ``text`` inside any occurrence of any of ``words``."""
    covered: set[int] = set()
    for word in words:
        start = text.find(word) if word else -1
        while start >= 0:
            covered.update(range(start, start + len(word)))
            start = text.find(word, start + 1)
    return covered


def _inside(hit: _Hit, covered: set[int] | range) -> bool:
    return all(index in covered for index in range(hit[0], hit[1]))


def _text_hits(text: str, table: Mapping[str, Polyphone], lexicon_words: set[int]) -> list[_Hit]:
    """Every trigger in the display text, minus those a lexicon word or document number holds."""
    documents = list(_documents(text))
    hits = [*_polyphones(text, table), *_rare(text), *_runs(text, _LATIN, "latin"), *documents,
            *(hit for hit in _runs(text, _NUMBER, "number")
              if not any(_inside(hit, range(d[0], d[1])) for d in documents))]
    return [hit for hit in hits if not _inside(hit, lexicon_words)]


def risks_of(segment: Segment, polyphones: Mapping[str, Polyphone] | None = None
             ) -> tuple[Risk, ...]:
    """What in ``segment`` a voice may read wrong: each distinct trigger once, grouped by kind in
    ``RISK_KINDS`` order and in text order within a kind.

    ``polyphones`` defaults to the shipped table (``shipped_polyphones()``).
    """
    table = shipped_polyphones() if polyphones is None else polyphones
    used = _covered(segment.text, (word for word, _ in segment.lexicon))
    hits = _text_hits(segment.text, table, used)
    order = {kind: rank for rank, kind in enumerate(RISK_KINDS)}
    found = [risk for _, _, risk in sorted(hits, key=lambda h: (order[h[2].kind], h[0]))]
    found += [Risk("lexicon", f"{word}{LEXICON_ARROW}{say}") for word, say in segment.lexicon]
    return tuple(dict.fromkeys(found))  # distinct, first occurrence kept


# ---------------------------------------------------------------- the report's input


@dataclass(frozen=True, slots=True)
class CheckRow:
    """One risky sentence, as it was spoken."""

    segment: Segment
    speak: str  # the text actually sent to the engine that spoke it
    risks: tuple[Risk, ...]  # ``risks_of(segment)``
    audio: str | None  # URL or data: URI of its clip; None if it has no audio
    engine: str | None  # name of the engine that spoke it
    duration_ms: int | None  # how long the clip lasts
    entry: str | None = None  # the word a lexicon entry for the first risk names (entry_word)


@dataclass(frozen=True, slots=True)
class CheckedArticle:
    """An article's risky sentences."""

    title: str
    label: str  # the path or URL it came from
    segments: int  # how many segments the article has in all
    rows: tuple[CheckRow, ...]  # the risky ones only, in reading order


def data_uri(mp3: bytes) -> str:
    """An MP3 as a ``data:`` URI, so a report opened from disk plays it with no server."""
    return "data:audio/mpeg;base64," + base64.b64encode(mp3).decode("ascii")


#: A word the shell reads as one argument without quotes (Han characters included).
_BARE_WORD = re.compile(r"[\w.,:+=@%/-]+")


def _shell_word(word: str) -> str:
    return word if _BARE_WORD.fullmatch(word) else shlex.quote(word)


def lexicon_command(risk: Risk, word: str | None = None) -> str:
    """The command line that adds a lexicon entry for ``risk``'s word (or ``word``, the whole
    word around it), for the editor to edit."""
    word = word or risk.word
    say = risk.say if risk.kind == "lexicon" else word
    return f"reader lexicon add {_shell_word(word)} {_shell_word(say)}"


def entry_word(text: str, risk: Risk, tokens: Sequence[tuple[str, int, int]]) -> str | None:
    """The word a lexicon entry for a polyphonic or rare character should name: entries
    replace whole words, so 单 alone would never fix 成绩单, and an entry for a character
    standing alone (为) would change it everywhere. The jieba word holding the character;
    a one-character word joined with its neighbour, so the entry fires only in that phrase.
    ``tokens`` are (word, start, end) tiling ``text``; None for other kinds of risk."""
    if risk.kind not in ("polyphone", "rare") or (at := text.find(risk.word)) < 0:
        return None
    for position, (word, start, end) in enumerate(tokens):
        if start <= at < end:
            if len(word) > 1:
                return word
            after = tokens[position + 1][0] if position + 1 < len(tokens) else ""
            before = tokens[position - 1][0] if position > 0 else ""
            if _is_han_word(after):
                return word + after
            return before + word if _is_han_word(before) else word
    return None


def _is_han_word(word: str) -> bool:
    return bool(word) and all("\u4e00" <= ch <= "\u9fff" for ch in word)


# ---------------------------------------------------------------- the HTML page

#: XML 1.0 forbids these; browsers and parsers choke on some (NUL), none is ever meant.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _e(text: str) -> str:
    """Text escaped for HTML content and attribute values, control characters dropped."""
    return html.escape(_CONTROL.sub("", text), quote=True)


def _label(kind: str) -> str:
    zh, en = RISK_LABELS[kind]
    return f"{zh} <span lang=\"en\">{_e(en)}</span>"


def _spans(text: str, risks: Sequence[Risk]) -> list[tuple[int, int]]:
    """Where the risks' words occur in ``text``, overlapping spans merged, in order."""
    spans = sorted({(start, start + len(risk.word))
                    for risk in risks if risk.word
                    for start in _starts(text, risk.word)})
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _starts(text: str, word: str) -> Iterator[int]:
    start = text.find(word)
    while start >= 0:
        yield start
        start = text.find(word, start + 1)


def _marked(text: str, risks: Sequence[Risk]) -> str:
    """The display text, escaped, with every trigger in ``<mark>``."""
    out: list[str] = []
    done = 0
    for start, end in _spans(text, risks):
        out.append(f"{_e(text[done:start])}<mark>{_e(text[start:end])}</mark>")
        done = end
    return "".join(out) + _e(text[done:])


def _badges(risks: Sequence[Risk]) -> str:
    items = "".join(f'<li class="badge risk-{_e(r.kind)}"><span class="kind">{_label(r.kind)}'
                    f'</span> <span class="detail">{_e(r.detail)}</span></li>' for r in risks)
    return f'<ul class="risks">{items}</ul>'


def _player(row: CheckRow) -> str:
    index = row.segment.index
    if row.audio is None:
        return '<span class="none">无音频 <span lang="en">no audio</span></span>'
    # A data: URI is the clip itself: once in the page is enough (no download link).
    fallback = ("" if row.audio.startswith("data:")
                else f'<a href="{_e(row.audio)}">下载音频 download</a>')
    return (f'<audio controls preload="none" src="{_e(row.audio)}"'
            f' aria-label="试听第 {index} 句 / listen to sentence {index}">{fallback}</audio>')


def _spoken_by(row: CheckRow) -> str:
    engine = _e(row.engine) if row.engine else "—"
    seconds = f"{row.duration_ms / 1000:.1f} 秒" if row.duration_ms is not None else "—"
    return f'{engine}<br><span class="duration">{seconds}</span>'


def _command(row: CheckRow) -> str:
    if not row.risks:
        return "—"
    return f'<code class="command">{_e(lexicon_command(row.risks[0], row.entry))}</code>'


def _row(anchor: str, row: CheckRow) -> str:
    index = row.segment.index
    kinds = " ".join(dict.fromkeys(r.kind for r in row.risks))
    return (f'<tr id="{anchor}-s{index}" data-risks="{_e(kinds)}">'
            f'<th scope="row">{index}</th>'
            f'<td class="text">{_marked(row.segment.text, row.risks)}</td>'
            f'<td class="speak">{_e(row.speak)}</td>'
            f"<td>{_badges(row.risks)}</td>"
            f'<td class="listen">{_player(row)}</td>'
            f"<td>{_spoken_by(row)}</td>"
            f"<td>{_command(row)}</td></tr>")


_COLUMNS = ("#", "原文 (触发处高亮)", "朗读文本 Spoken text", "风险 Risks", "试听 Listen",
            "引擎 · 时长 Engine", "词典命令 Lexicon command")


def _table(anchor: str, article: CheckedArticle) -> str:
    if not article.rows:
        return '<p class="clean">没有需要试听的句子。<span lang="en">No risky sentences.</span></p>'
    head = "".join(f'<th scope="col">{_e(name)}</th>' for name in _COLUMNS)
    body = "".join(_row(anchor, row) for row in article.rows)
    return (f"<table><caption>需要试听的句子 {len(article.rows)} 句"
            f' <span lang="en">Sentences to check</span></caption>'
            f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")


def _article(number: int, article: CheckedArticle) -> str:
    anchor = f"article-{number}"
    return (f'<section class="article" id="{anchor}" aria-labelledby="{anchor}-title">'
            f'<h2 id="{anchor}-title">{_e(article.title)}</h2>'
            f'<p class="source">来源 <span lang="en">Source</span>: {_e(article.label)}'
            f" · 共 {article.segments} 句，需试听 {len(article.rows)} 句</p>"
            f"{_table(anchor, article)}</section>")


def _summary(articles: Sequence[CheckedArticle], generated: str,
             lexicon_files: Sequence[str]) -> str:
    files = "".join(f"<li><code>{_e(f)}</code></li>" for f in lexicon_files)
    facts = (("articles", "文章 Articles", str(len(articles))),
             ("sentences", "句子 Sentences", str(sum(a.segments for a in articles))),
             ("risky", "需试听 Risky sentences", str(sum(len(a.rows) for a in articles))),
             ("generated", "生成时间 Generated", _e(generated)))
    rows = "".join(f'<div><dt>{label}</dt><dd id="count-{key}">{value}</dd></div>'
                   for key, label, value in facts)
    listed = f"<ul>{files}</ul>" if files else "无 none"
    return (f'<dl class="summary">{rows}'
            f'<div><dt>词典文件 Lexicon files</dt><dd id="lexicon-files">{listed}</dd></div></dl>')


_HOW_TO_FIX = """<section id="how-to-fix" aria-labelledby="how-to-fix-title">
<h2 id="how-to-fix-title">如何修正 <span lang="en">How to fix</span></h2>
<ol>
<li>逐句试听：下列句子含有声音引擎容易读错的内容，高亮处为触发点。
<span lang="en">Listen to each sentence; the highlighted text is what made it risky.</span></li>
<li>读错的词加入发音词典：复制该行的命令，把最后一项改成正确的读法（同音字或写出的数字），
在终端运行；或直接编辑词典文件（每行 <code>词</code> <kbd>Tab</kbd> <code>读法</code>）。
<span lang="en">Add an entry for each misread word: copy the row's command, change its last
word to how it should be said (a homophone, a spelled-out number) and run it, or edit the
lexicon file (one <code>word</code> <kbd>Tab</kbd> <code>say</code> a line).</span></li>
<li>再次运行 <code>reader pregen</code>：只有受影响的句子会重新合成。
<span lang="en">Run <code>reader pregen</code> again: only the affected sentences are
synthesised anew.</span></li>
</ol>
</section>"""


def _filters(articles: Sequence[CheckedArticle]) -> str:
    """Checkboxes by risk kind; hidden until the script runs, so without it nothing is hidden."""
    counts = {kind: 0 for kind in RISK_KINDS}
    for row in (row for article in articles for row in article.rows):
        for kind in dict.fromkeys(r.kind for r in row.risks):
            counts[kind] = counts.get(kind, 0) + 1
    boxes = "".join(f'<label><input type="checkbox" name="kind" value="{kind}" checked>'
                    f" {_label(kind)} ({counts[kind]})</label>" for kind in RISK_KINDS)
    return (f'<fieldset id="filters" hidden><legend>按风险类别显示'
            f' <span lang="en">Show sentences with</span></legend>{boxes}</fieldset>')


# A row stays visible while any of its kinds is ticked. Plain DOM, no module, so the page
# works opened from disk in any current browser.
_SCRIPT = """<script>
(function () {
  var box = document.getElementById("filters");
  if (!box) return;
  box.hidden = false;
  box.addEventListener("change", function () {
    var on = {};
    box.querySelectorAll("input:checked").forEach(function (i) { on[i.value] = true; });
    document.querySelectorAll("tr[data-risks]").forEach(function (row) {
      row.hidden = !row.dataset.risks.split(" ").some(function (k) { return on[k]; });
    });
  });
})();
</script>"""

# Contrast (WCAG 2): text 17:1 on white, muted text 8:1 on the badge grey, marked text 17:1,
# the focus ring 6.4:1 against white; the badge stripes only repeat the kind named in words.
_STYLE = """<style>
:root { color-scheme: light; --ink: #1b1b1b; --muted: #4a4a4a; --line: #c8c8c8;
  --focus: #0b57d0; --mark: #ffe680; }
body { font: 16px/1.6 system-ui, "PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", sans-serif;
  color: var(--ink); background: #fff; margin: 0 auto; padding: 1rem 1.5rem; max-width: 90rem; }
h1 { font-size: 1.6rem; margin: .5rem 0; } h2 { font-size: 1.25rem; margin: 2rem 0 .25rem; }
.summary { display: flex; flex-wrap: wrap; gap: .5rem 2rem; margin: 0; }
.summary dt { color: var(--muted); font-size: .875rem; }
.summary dd { margin: 0; font-weight: 600; }
.summary ul { margin: 0; padding-left: 1.2rem; font-weight: 400; }
.source { color: var(--muted); margin: 0 0 .5rem; overflow-wrap: anywhere; }
table { border-collapse: collapse; width: 100%; }
caption { text-align: left; font-weight: 600; padding: .25rem 0; }
th, td { border: 1px solid var(--line); padding: .4rem .5rem; vertical-align: top;
  text-align: left; }
thead th { background: #f0f0f0; }
td.text { min-width: 12rem; } td.speak { color: var(--muted); min-width: 10rem; }
mark { background: var(--mark); color: #000; padding: 0 .1em; }
.risks { list-style: none; margin: 0; padding: 0; }
.badge { display: inline-block; margin: 0 .25rem .25rem 0; padding: 0 .4rem; border-radius: .25rem;
  background: #f4f4f4; border-left: .35rem solid var(--c); white-space: nowrap; }
.badge .kind { font-size: .8rem; color: var(--muted); }
.risk-polyphone { --c: #b3261e; } .risk-rare { --c: #7b1fa2; } .risk-latin { --c: #1565c0; }
.risk-document { --c: #2e7d32; } .risk-number { --c: #8d6e00; } .risk-lexicon { --c: #37474f; }
code.command { user-select: all; background: #f4f4f4; padding: .1rem .3rem;
  overflow-wrap: anywhere; }
.none, .duration { color: var(--muted); }
td.listen { min-width: 11rem; } audio { width: 100%; min-width: 10rem; }
fieldset { border: 1px solid var(--line); margin: 1rem 0; } fieldset label { margin-right: 1rem; }
:focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; }
</style>"""


def _contents(articles: Sequence[CheckedArticle]) -> str:
    if len(articles) < 2:
        return ""
    items = "".join(f'<li><a href="#article-{n}">{_e(a.title)}</a> ({len(a.rows)})</li>'
                    for n, a in enumerate(articles, start=1))
    return (f'<nav aria-labelledby="contents-title"><h2 id="contents-title">文章'
            f' <span lang="en">Articles</span></h2><ol>{items}</ol></nav>')


def check_report(articles: Sequence[CheckedArticle], *, generated: str,
                 lexicon_files: Sequence[str]) -> str:
    """The audio check report: one self-contained HTML5 page for all ``articles``.

    ``generated`` is shown as given (a timestamp); ``lexicon_files`` are the lexicon files the
    audio was made with, so the editor knows which one to edit.
    """
    sections = "".join(_article(n, a) for n, a in enumerate(articles, start=1))
    return ('<!doctype html>\n<html lang="zh-CN">\n<head>\n<meta charset="utf-8">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>朗读检查报告 Audio check report</title>\n{_STYLE}\n</head>\n<body>\n"
            '<header><h1>朗读检查报告 <span lang="en">Audio check report</span></h1>'
            f"{_summary(articles, generated, lexicon_files)}</header>\n<main>\n"
            f"{_HOW_TO_FIX}\n{_contents(articles)}{_filters(articles)}\n{sections}\n</main>\n"
            f"{_SCRIPT}\n</body>\n</html>\n")

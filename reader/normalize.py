"""Display text -> text to speak: numbers, dates, units and symbols spelled out for a voice.

``normalize(text, level)`` takes a span of display text (a sentence, or the part of one between two
pronunciation-lexicon words) and returns what a TTS engine is given.

* ``full`` is for the offline engine (libespeak-ng, Mandarin ``cmn``): it reads Arabic digits badly,
  so every number, date, time, unit and acronym is spelled out in Chinese characters.
* ``light`` is for Microsoft's neural voices (edge-tts): they read ordinary numbers, years, dates,
  times, percentages and units well, so light does only what they get wrong: phone numbers and codes
  (digit by digit, 1 read 幺), document numbers (〔2025〕12号), ranges (1-10月 is not "1 minus 10"),
  plus the safety rules.

Text with Latin letters and no Han character is English: its numbers are left as digits for an
English voice, and only the safety rules (and, at full, e-mail and URL reading) run. Text with
neither (``20:18``, ``35%``) is a fragment of a Chinese sentence and is read as Chinese.
The language is decided once, just before the first language-specific rule, so that markup and
character references are already gone.

Rules run in this order, each on the output of the one before (``RULES`` holds them as data).
F = full, L = light; "text" says which language of text the rule runs on::

    rule              F  L  text   what it does
    ----------------  -  -  -----  ---------------------------------------------------------------
    entity            x  x  any    &amp; &#20013; &nbsp; -> the character
    width             x  x  any    full-width digits, letters, ％＋－．／～＜＞＆＠ -> ASCII
    junk              x  x  any    control chars -> space; emoji, pictographs (So), Cf, Cs, Co,
                                   Cn, variation selectors, skin tones, keycaps -> dropped
    space             x  x  any    runs of whitespace -> one space; ends trimmed
    tag               x  x  any    <speak>, </voice>, <!-- --> -> a space
    arrow-zh/-en      x  x  zh/en  ->, =>, → -> 到 / to
    compare-zh/-en    x  x  zh/en  3<5 -> 三小于五 / 3 less than 5; 首页>要闻 -> a pause
    ampersand-zh/-en  x  x  zh/en  & -> 和 / and
    email-zh/-en      x     zh/en  a1@qq.com -> a 幺 at qq 点 com / a1 at qq dot com
    url-zh/-en        x     zh/en  https://www.cq.gov.cn/x?id=1 -> www 点 cq 点 gov 点 cn 斜杠 x
    phone-mobile      x  x  zh     13812345678 -> 幺三八 幺二三四 五六七八
    phone-service     x  x  zh     400-123-4567 -> 四零零 幺二三 四五六七
    phone-landline    x  x  zh     023-63851234, (023)63851234 -> 零二三 六三八五幺二三四
    hotline           x  x  zh     热线12345, 拨打110, 邮编400015 -> 热线幺二三四五, 拨打幺幺零 ...
    service-number    x  x  zh     110, 12306, 95598 ... as whole numbers anywhere -> 幺幺零 ...
    generation        x     zh     00后, 90后, 80、90后 -> 零零后, 九零后, 八零、九零后
    code              x  x  zh     over 11 digits, or a leading 0 (0023) -> digit by digit
    docnum            x     zh     渝府发〔2025〕12号 -> 渝府发二〇二五年十二号
    docnum-light         x  zh     渝府发〔2025〕12号 -> 渝府发2025年12号
    date-ymd          x     zh     2025-09-05, 2025/9/5, 2025.09.05 -> 二〇二五年九月五日
    date-ym           x     zh     2025-09, 2025/09 -> 二〇二五年九月
    year-range        x     zh     2025/2026赛季 -> 二〇二五至二〇二六赛季
    year-range-light     x  zh     2025/2026赛季 -> 2025至2026赛季
    ratio-context     x     zh     比分21:19, 以3:2 -> 比分二十一比十九 (before the time rule)
    time              x     zh     20:18, 08:05:30 -> 二十点十八分, 八点零五分三十秒
    time-range-light     x  zh     9:00-17:00 -> 9:00至17:00
    dotted            x     zh     3.14.15, 192.168.1.1 -> 三点十四点十五, ...
    ratio             x     zh     3:2 (not a time), 1∶1000 -> 三比二, 一比一千
    unit              x     zh     5km, 30℃, 100㎡, 2GB -> 5公里, 30摄氏度, 100平方米 (digits
                                   stay for the number rules below)
    unit-symbol       x     zh     ℃ ° ㎡ ... standing alone -> 摄氏度 度 平方米 ...
    money             x     zh     ¥100, $5, €3, ¥1-2万 -> 一百元, 五美元, 三欧元, 一至两万元
    range             x     zh     1-10月, 3~5天, 10%-20%, 2019-2025年, -5~3℃ -> 一至十月 ...
    range-light          x  zh     1-10月, 3~5天, 10%-20% -> 1至10月, 3至5天, 10%至20%
    range-after-date  x  x  zh     5日-7日 -> 5日至7日
    percent           x     zh     35%, 5‰, -2% -> 百分之三十五, 千分之五, 负百分之二
    year              x     zh     2025年, 2025届 -> 二〇二五年, 二〇二五届
    year-bare         x     zh     2025世界... (19xx/20xx, then no measure word) -> 二〇二五世界
    fraction          x     zh     1/3 -> 三分之一
    number            x     zh     5000, 1.2, 100,000, -5, 2个 -> 五千, 一点二, 十万, 负五, 两个
                                   (but CO2排放 -> C O二排放: no 两 after a Latin letter)
    leftover-digits   x     zh     any digit still left -> digit by digit
    unit-per          x     zh     元/m², 元/吨, ¥5/kg -> 元每平方米, 元每吨, 五元每千克
    circle-zero       x  x  zh     二○二五 (○ U+25CB typed for 〇) -> 二〇二五; other ○ dropped
    plus, equals      x     zh     人工智能+, 1+1=2 -> 人工智能加, 一加一等于二
    acronym           x     zh     AI, CMG, GDP (2-6 capitals) -> A I, C M G, G D P

After the rules, ``<``, ``>``, ``&`` and control characters are replaced once more (a guard: no rule
should leave one), whitespace is collapsed to single spaces and the ends are trimmed.

Known limits: a lone 9/5 is read as a fraction, not a date; 图1-2 is read as a range; a bare
four-digit 19xx/20xx is a year only before a Han word that is not a measure word or unit (the word
lists are heuristics). At ``light`` level, unit symbols ℃ ℉ ° and the squared units (㎡ ㎞ ...) are
kept, because neural voices read them; at ``full`` level in Chinese text they are spelled out.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal, get_args

__all__ = [
    "Lang",
    "Level",
    "RULES",
    "Rule",
    "language",
    "normalize",
    "read_decimal",
    "read_digits",
    "read_integer",
    "read_number",
    "read_year",
]

Level = Literal["full", "light"]
Lang = Literal["zh", "en"]

LEVELS: frozenset[str] = frozenset(get_args(Level))

# ===================================================================== number reading

_DIGITS = "零一二三四五六七八九"
_YEAR_DIGITS = "〇一二三四五六七八九"  # years are read digit by digit with 〇 (二〇二五年)
_PLACES = ("", "十", "百", "千")
_MAX_READ = 10**17  # up to 10^16 (一亿亿) is read as a number; longer is read digit by digit
_DIGIT_TABLE = str.maketrans("0123456789", _DIGITS)
_YAO_TABLE = str.maketrans("0123456789", "零幺二三四五六七八九")  # 幺: 一 and 七 sound alike
_YEAR_TABLE = str.maketrans("0123456789", _YEAR_DIGITS)


def read_digits(digits: str, *, yao: bool = False) -> str:
    """Read a string of ASCII digits one by one: ``"023"`` -> ``"零二三"``.

    With ``yao``, 1 is read 幺, as in phone numbers and codes (一 and 七 sound alike over a line).
    Characters other than ASCII digits are kept as they are.
    """
    table = _YAO_TABLE if yao else _DIGIT_TABLE
    return digits.translate(table)


def read_year(digits: str) -> str:
    """Read a year digit by digit with 〇: ``"2025"`` -> ``"二〇二五"``."""
    return digits.translate(_YEAR_TABLE)


def _read_group(n: int, leading: bool) -> str:
    """Read 0 < n < 10000; a leading group says 十五, an inner one 一十五 (一百一十五)."""
    out: list[str] = []
    started = zero = False
    for place, char in zip((3, 2, 1, 0), f"{n:04d}", strict=True):
        digit = int(char)
        if digit == 0:
            zero = started
            continue
        if zero:
            out.append("零")
            zero = False
        if not (digit == 1 and place == 1 and leading and not started):
            out.append(_DIGITS[digit])
        out.append(_PLACES[place])
        started = True
    return "".join(out)


def _read_positive(n: int, leading: bool) -> str:
    """Read 0 < n: groups of four digits under 万 and 亿, with 零 for a gap (一亿零一万)."""
    if n >= 10**8:
        high, low = divmod(n, 10**8)
        text = _read_positive(high, leading) + "亿"
        gap = "零" if 0 < low < 10**7 else ""
        return text + gap + (_read_positive(low, False) if low else "")
    if n >= 10**4:
        high, low = divmod(n, 10**4)
        text = _read_group(high, leading) + "万"
        return text + ("零" if 0 < low < 1000 else "") + (_read_group(low, False) if low else "")
    return _read_group(n, leading)


def read_integer(n: int) -> str:
    """Read an integer: 10 -> 十, 105 -> 一百零五, 2000 -> 两千, 10**8 + 10**4 -> 一亿零一万.

    A leading 2 before 千, 万 or 亿 is read 两, as people say it; 2 alone is 二 (the caller
    decides on 两 before a measure word). Negative numbers get 负. Past 10^16 the digits are read
    one by one.
    """
    if n < 0:
        return "负" + read_integer(-n)
    if n == 0:
        return "零"
    if n >= _MAX_READ:
        return read_digits(str(n))
    text = _read_positive(n, leading=True)
    if text[:2] in ("二千", "二万", "二亿"):
        text = "两" + text[1:]
    return text


def read_decimal(number: str) -> str:
    """Read ``"3.14"`` -> ``"三点一四"``, ``"0.5"`` -> ``"零点五"``: the fraction digit by digit."""
    whole, _, fraction = number.partition(".")
    text = read_integer(int(whole)) if len(whole) < 18 else read_digits(whole)
    return text + ("点" + read_digits(fraction) if fraction else "")


def read_number(number: str) -> str:
    """Read a number as written: digits with optional ``,`` or space grouping and decimal part."""
    plain = number.replace(",", "").replace(" ", "")
    whole = plain.partition(".")[0]
    if len(whole) > 17:
        return read_digits(plain).replace(".", "点")
    return read_decimal(plain)


# ===================================================================== word lists

# Measure words and units: a number before one of them is a quantity, not a year (2000人, 5000家),
# and an exact 2 before one of them is read 两 (两个, 两年). 月, 日 and 号 are missing on purpose:
# 2月 is February (二月), 2日 and 2号 are dates.
_MEASURES = """
个 位 名 家 人 口 户 次 项 件 条 种 类 只 头 匹 台 辆 架 艘 列 座 栋 幢 所 间 张 本 册 块 片 部 门
份 批 届 轮 场 趟 天 周 年 岁 代 倍 层 段 句 首 篇 幅 棵 株 双 对 套 枚 颗 粒 支 把 根 组 处 笔 起
例 宗 单 季 期 集 章 节 课 页 行 排 站 路 款 点 成 元 角 分 秒 度 米 克 吨 升 亩 斤 尺 寸 里 瓦 伏
字 所 万 亿 千 百 小时 分钟 秒钟 星期 个月 公里 千米 厘米 毫米 纳米 微米 平方 立方 公顷 千克
公斤 毫克 毫升 千瓦 兆瓦 吉瓦 赫兹 分贝 平米 步
""".split()

# Words that make a bare 19xx/20xx a quantity rather than a year: the measure words plus
# approximations (2000多, 2000余), currencies (2000美元) and other quantity words.
_NOT_YEAR = _MEASURES + """
多 余 来 几 以 左右 上下 美元 欧元 英镑 日元 港元 韩元 澳元 卢布 人民币 摄氏度 华氏度 马力 兆 吉 太
毫 微 纳 号 月 日 时 至 到 和 与 及 或
""".split()

# Before these an exact 2 is 两 (两个, 两万); 摄氏度 is left out: 二摄氏度 is the usual reading.
_LIANG = [w for w in _MEASURES if w not in ("度",)] + ["百"]


def _alternation(words: Iterable[str]) -> str:
    """A regex alternation of words, longest first so 公里 wins over 公."""
    return "|".join(re.escape(w) for w in sorted(set(words), key=len, reverse=True))


_LIANG_NEXT = re.compile(rf"\s?(?:{_alternation(_LIANG)})")
_CELSIUS_NEXT = re.compile(r"\s?(?:摄氏度|华氏度|度)")  # -5℃ is 零下五摄氏度, -5 alone is 负五
_YEAR_SUFFIX_NEXT = re.compile(r"\s?年")

# Latin units after a number, with their Chinese names. Matched longest first (km/h before km
# before m); case matters: g is grams, G is the G of 5G; M alone (million, size) is not a unit.
_UNITS: dict[str, str] = {
    "km/h": "公里每小时", "km/s": "公里每秒", "m/s": "米每秒",
    "km²": "平方公里", "km2": "平方公里", "㎢": "平方公里",
    "m²": "平方米", "㎡": "平方米", "m2": "平方米", "cm²": "平方厘米", "㎠": "平方厘米",
    "m³": "立方米", "㎥": "立方米", "m3": "立方米", "cm³": "立方厘米", "㎤": "立方厘米",
    "°C": "摄氏度", "℃": "摄氏度", "°F": "华氏度", "℉": "华氏度", "°": "度",
    "km": "公里", "㎞": "公里", "cm": "厘米", "㎝": "厘米", "mm": "毫米", "㎜": "毫米",
    "nm": "纳米", "㎚": "纳米", "μm": "微米", "µm": "微米", "㎛": "微米", "m": "米",
    "kg": "千克", "Kg": "千克", "KG": "千克", "㎏": "千克", "mg": "毫克", "㎎": "毫克",
    "g": "克", "t": "吨",
    "ml": "毫升", "mL": "毫升", "㎖": "毫升", "L": "升", "ℓ": "升",
    "TB": "太字节", "GB": "吉字节", "MB": "兆字节", "KB": "千字节", "kB": "千字节",
    "kWh": "千瓦时", "kW·h": "千瓦时", "㎾": "千瓦", "kW": "千瓦", "KW": "千瓦", "MW": "兆瓦",
    "㎿": "兆瓦", "GW": "吉瓦", "W": "瓦", "kV": "千伏", "㎸": "千伏", "V": "伏",
    "mAh": "毫安时", "mA": "毫安",
    "GHz": "吉赫兹", "㎓": "吉赫兹", "MHz": "兆赫兹", "㎒": "兆赫兹", "kHz": "千赫兹",
    "㎑": "千赫兹", "Hz": "赫兹", "㎐": "赫兹",
    "Gbps": "吉比特每秒", "Mbps": "兆比特每秒",
    "dB": "分贝", "㏈": "分贝", "ha": "公顷", "㏊": "公顷",
    "h": "小时", "min": "分钟", "ms": "毫秒", "s": "秒",
}
_UNIT_ALT = _alternation(_UNITS)
# Unit symbols that are text, not pictographs: kept by the junk rule although their category is So.
_UNIT_SYMBOLS = "".join(u for u in _UNITS if len(u) == 1 and unicodedata.category(u) == "So")
_KEPT_SYMBOLS = frozenset(_UNIT_SYMBOLS + "○")  # ○ stands for 〇 in 二○二五年

# ===================================================================== rule machinery

Replace = Callable[[re.Match[str]], str]


@dataclass(frozen=True, slots=True)
class Rule:
    """One rewrite: every match of ``pattern`` becomes ``replace(match)``."""

    name: str  # unique, used in the module table and in tests
    pattern: re.Pattern[str]  # compiled at import
    replace: Replace  # match -> replacement text
    levels: frozenset[Level]  # the levels it runs at
    langs: frozenset[Lang]  # the text languages it runs on


FULL: frozenset[Level] = frozenset({"full"})
LIGHT: frozenset[Level] = frozenset({"light"})
BOTH: frozenset[Level] = frozenset({"full", "light"})
ZH: frozenset[Lang] = frozenset({"zh"})
EN: frozenset[Lang] = frozenset({"en"})
ANY: frozenset[Lang] = frozenset({"zh", "en"})


def _const(text: str) -> Replace:
    """A replacement that ignores the match."""
    return lambda _m: text


def _after(m: re.Match[str]) -> tuple[str, int]:
    """The string a match was found in and the offset just past it, to peek at what follows."""
    return m.string, m.end()


def _before(m: re.Match[str]) -> str:
    """The character just before a match ('' at the start)."""
    return m.string[m.start() - 1] if m.start() else ""


# Numbers as written: 1,000,000 grouping (comma only; space grouping only in the number rule),
# optional decimal part.
_NUM = r"(?:[0-9]{1,3}(?:,[0-9]{3})+(?![0-9])|[0-9]+)(?:\.[0-9]+)?"
# Range separators: hyphen, tilde, wave dash, em/en dash, double em dash, and the words 至 and 到.
# (Full-width －～ were folded to ASCII by the width rule.)
_RANGE_SEP = r"(?:——|[-~〜—–]|至|到)"
_HAN = r"\u3007\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_HAN_RE = re.compile(rf"[{_HAN}\U00020000-\U0003134f]")
_LATIN_RE = re.compile(r"[A-Za-z\u00c0-\u024f]")

# ===================================================================== safety rules


def _entity(m: re.Match[str]) -> str:
    return html.unescape(m.group())


_WIDTH_TABLE = {code: code - 0xFEE0 for code in range(0xFF10, 0xFF1A)}  # ０-９
_WIDTH_TABLE.update({code: code - 0xFEE0 for code in range(0xFF21, 0xFF3B)})  # Ａ-Ｚ
_WIDTH_TABLE.update({code: code - 0xFEE0 for code in range(0xFF41, 0xFF5B)})  # ａ-ｚ
_WIDTH_TABLE.update({ord(c): ord(c) - 0xFEE0 for c in "％＋－．／～＜＞＆＠＄＃＝＊"})


def _width(m: re.Match[str]) -> str:
    return m.group().translate(_WIDTH_TABLE)


@lru_cache(maxsize=4096)
def _fate(char: str) -> str:
    """What the junk rule makes of one character outside the common ranges."""
    if char in _KEPT_SYMBOLS:
        return char
    category = unicodedata.category(char)
    code = ord(char)
    if category in ("Cc", "Zs", "Zl", "Zp"):
        return " "
    if category in ("Cf", "Cs", "Co", "Cn", "So", "Me"):
        return ""
    if 0x1F3FB <= code <= 0x1F3FF:  # emoji skin-tone modifiers (Sk)
        return ""
    if 0xFE00 <= code <= 0xFE0F or 0xE0100 <= code <= 0xE01EF:  # variation selectors (Mn)
        return ""
    return char


def _junk(m: re.Match[str]) -> str:
    return _fate(m.group())


def _space(m: re.Match[str]) -> str:
    return "" if m.start() == 0 or m.end() == len(m.string) else " "


_COMPARE_ZH = {"<=": "小于等于", ">=": "大于等于", "<>": "不等于", "!=": "不等于", "<": "小于",
               ">": "大于", "≤": "小于等于", "≥": "大于等于", "≠": "不等于"}
_COMPARE_EN = {"<=": " less than or equal to ", ">=": " greater than or equal to ",
               "<>": " not equal to ", "!=": " not equal to ", "<": " less than ",
               ">": " greater than ", "≤": " less than or equal to ",
               "≥": " greater than or equal to ", "≠": " not equal to "}


_OPERAND = re.compile(r"[0-9A-Za-z]")


def _between_words(m: re.Match[str]) -> bool:
    """True when no digit or letter stands next to the operator: 首页>要闻 is a breadcrumb."""
    string, start, end = m.string, m.start(), m.end()
    left = string[:start].rstrip()[-1:]
    right = string[end:].lstrip()[:1]
    return not (_OPERAND.match(left) or _OPERAND.match(right))


def _compare_zh(m: re.Match[str]) -> str:
    return " " if _between_words(m) else _COMPARE_ZH[m.group()]


def _compare_en(m: re.Match[str]) -> str:
    return " " if _between_words(m) else _COMPARE_EN[m.group()]


#: An HTML character reference (&amp; &#39; &#x4e2d;): one character, not text to split or read.
CHARACTER_REFERENCE = r"&(?:[A-Za-z][A-Za-z0-9]{1,31}|#[0-9]{1,7}|#[xX][0-9A-Fa-f]{1,6});"

_SAFETY: list[Rule] = [
    # HTML character references left in scraped text: &nbsp; &amp; &#20013;. Decoded first, so a
    # decoded < or & is then handled by the rules below like any other.
    Rule("entity", re.compile(CHARACTER_REFERENCE), _entity, BOTH, ANY),
    # Full-width digits and letters (２０２５, ＡＩ) and the symbols that take part in numbers and
    # markup; Chinese punctuation (，：（）) stays full-width, it is prosody.
    Rule("width", re.compile(
        r"[\uff10-\uff19\uff21-\uff3a\uff41-\uff5a％＋－．／～＜＞＆＠＄＃＝＊]+"),
        _width, BOTH, ANY),
    # Everything outside printable ASCII, Han and common CJK punctuation is looked at one by one
    # (cached): controls become spaces, emoji and pictographs go. The fast class keeps this cheap.
    Rule("junk", re.compile(
        r"[^\x20-\x7e\u4e00-\u9fff\u3001-\u3003\u3008-\u3011\u3014-\u301f\uff01-\uff5e"
        r"\u2014\u2018\u2019\u201c\u201d\u2026\u00b7]"), _junk, BOTH, ANY),
    # Runs of whitespace become one space and the ends are trimmed before any rule that looks for
    # an optional space (5 km, 热线 12345), so a second pass sees what the first one saw.
    Rule("space", re.compile(r"\s+"), _space, BOTH, ANY),
    # Markup: a tag starts with < and a letter (or </, <!, <?), so "3<5" is a comparison, not a tag.
    Rule("tag", re.compile(r"<!--.*?-->|<[!?/]?[A-Za-z][^<>]*>", re.DOTALL), _const(" "),
         BOTH, ANY),
    # Arrows before comparisons, or "->" would become "- greater than". "<-" is left alone: a<-5
    # means a < -5.
    Rule("arrow-zh", re.compile(r"-+>|=>|[→⇒]"), _const("到"), BOTH, ZH),
    Rule("arrow-en", re.compile(r"-+>|=>|[→⇒]"), _const(" to "), BOTH, EN),
    # Two-character operators first so <= is one word, not "小于=". With no digit or letter on
    # either side the sign is a separator (首页>要闻动态, >> 更多), read as a pause.
    Rule("compare-zh", re.compile(r"<=|>=|<>|!=|[<>≤≥≠]"), _compare_zh, BOTH, ZH),
    Rule("compare-en", re.compile(r"<=|>=|<>|!=|[<>≤≥≠]"), _compare_en, BOTH, EN),
    Rule("ampersand-zh", re.compile(r"\s*&\s*"), _const("和"), BOTH, ZH),
    Rule("ampersand-en", re.compile(r"\s*&\s*"), _const(" and "), BOTH, EN),
]

# ===================================================================== e-mail and URLs

_DOT_ZH = {".": " 点 ", "/": " 斜杠 ", "-": " 杠 ", "_": " 下划线 ", "@": " at ", ":": " 冒号 "}
_DOT_EN = {".": " dot ", "/": " slash ", "-": " dash ", "_": " underscore ", "@": " at ",
           ":": " colon "}
_ADDRESS_PUNCT = re.compile(r"[./\-_@:]")
_ADDRESS_DIGITS = re.compile(r"[0-9]+")


def _spell_address(text: str, words: dict[str, str], digits: bool) -> str:
    """Read the punctuation of an address as words; digits one by one if asked (qq numbers)."""
    text = _ADDRESS_PUNCT.sub(lambda m: words[m.group()], text)
    if digits:
        text = _ADDRESS_DIGITS.sub(lambda m: " " + read_digits(m.group(), yao=True) + " ", text)
    return text


def _url_core(m: re.Match[str]) -> str:
    """The part of a URL worth reading: no scheme, no query string or fragment, no trailing /."""
    return m.group("host") + (m.group("path") or "").rstrip("/")


def _email_zh(m: re.Match[str]) -> str:
    return _spell_address(m.group(), _DOT_ZH, digits=True)


def _email_en(m: re.Match[str]) -> str:
    return _spell_address(m.group(), _DOT_EN, digits=False)


def _url_zh(m: re.Match[str]) -> str:
    return _spell_address(_url_core(m), _DOT_ZH, digits=True)


def _url_en(m: re.Match[str]) -> str:
    return _spell_address(_url_core(m), _DOT_EN, digits=False)


# local@domain.tld; the local part may hold dots, plus and minus signs.
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
# A URL is recognised by its scheme, a leading www., or a common top-level domain, so 3.14 and
# 2025.09.05 are never URLs. The path stops at the first character that is not URL-safe ASCII,
# which keeps the Chinese text after it out; the query string and fragment are dropped. Neither
# ends in "." (see https://example.com/a.html. -- that dot ends the sentence), and a ? or # with
# nothing after it is the sentence's question mark; , ; : ! ) are not URL characters here at all.
_URL = re.compile(
    r"(?:https?://)?"
    r"(?P<host>www\.[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+"
    r"|(?<=://)[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+"
    r"|(?<![A-Za-z0-9.@-])[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.(?:com|cn|net|org|gov|edu|int|info|io)"
    r"(?![A-Za-z0-9-]))"
    r"(?P<path>/(?:[A-Za-z0-9._~%/-]*[A-Za-z0-9_~%/-])?)?"
    r"(?:[?#][A-Za-z0-9._~%=+/-]*[A-Za-z0-9_~%=+/-])?")

_ADDRESSES: list[Rule] = [
    Rule("email-zh", _EMAIL, _email_zh, FULL, ZH),
    Rule("email-en", _EMAIL, _email_en, FULL, EN),
    Rule("url-zh", _URL, _url_zh, FULL, ZH),
    Rule("url-en", _URL, _url_en, FULL, EN),
]

# ===================================================================== phones, codes, documents


def _phone(*groups: str | None) -> str:
    """Digit groups read one by one with 幺, a space (a short pause) between groups."""
    return " ".join(read_digits(g, yao=True) for g in groups if g)


def _phone_mobile(m: re.Match[str]) -> str:
    prefix = "加八六 " if m.group("cc") else ""
    return prefix + _phone(m.group("a"), m.group("b"), m.group("c"))


def _phone_service(m: re.Match[str]) -> str:
    return _phone(m.group("a"), m.group("b"), m.group("c"))


def _phone_landline(m: re.Match[str]) -> str:
    text = _phone(m.group("area1") or m.group("area2"), m.group("local"))
    return text + (" 转 " + _phone(m.group("ext")) if m.group("ext") else "")


def _hotline(m: re.Match[str]) -> str:
    return (m.group("ctx") or "") + (m.group("mid") or "") + _phone(m.group("num"))


def _code(m: re.Match[str]) -> str:
    return _phone(m.group())


def _docnum(m: re.Match[str]) -> str:
    number = read_integer(int(m.group("no")))
    return read_year(m.group("year")) + "年" + (m.group("di") or "") + number + "号"


def _docnum_light(m: re.Match[str]) -> str:
    return m.group("year") + "年" + (m.group("di") or "") + m.group("no") + "号"


_MEASURE_AHEAD = rf"(?!\s?(?:{_alternation(_MEASURES)}|多|余|[.,%][0-9%]?))"

# Service numbers everyone knows by their digits: said 幺幺零, never 一百一十, wherever they stand
# ("拨打12345或110", "铁路12306网站"), not only after 热线/电话/拨打. Read as a quantity, none of
# them would be recognised. The table is short on purpose: every entry is also an ordinary
# number, which the rule below leaves to the number rules when it counts something (110人).
_SERVICE_NUMBERS: dict[str, str] = {
    "110": "police",
    "119": "fire brigade",
    "120": "ambulance",
    "122": "road accidents",
    "114": "directory enquiries",
    "12345": "city government service hotline",
    "12306": "railway tickets (the site and app are named after it)",
    "12315": "consumer complaints",
    "12348": "legal aid",
    "12351": "trade union workers' hotline",
    "12369": "environmental complaints",
    "95598": "State Grid electricity",
    "95588": "ICBC bank",
    "10086": "China Mobile",
    "10010": "China Unicom",
    "10000": "China Telecom",
}

# Before these a service number is a count, an amount or a date (110人, 120平, 10000毫安, 114评论,
# 122号), not something to dial: measure words, units, approximations and counted page items.
_NOT_SERVICE_NEXT = _MEASURES + """
多 余 来 几 以上 以下 以内 左右 上下 号 月 日 时 平 毫 微 纳 兆 美元 欧元 英镑 日元 港元 人民币
摄氏度 华氏度 评论 阅读 浏览 点赞 转发 收藏 播放
""".split()

# After these a service number is a rank, a total or a level reached (第110, 约120, 超过10000,
# 达到110, 增至120, 为120): ordinals, approximations and the verbs of change.
_NOT_SERVICE_BEFORE = "第约近超逾达共计为过到至破仅"

_PHONES: list[Rule] = [
    # Mainland mobiles: 11 digits from 13x-19x, written whole or 3-4-4; +86 in front is read.
    Rule("phone-mobile", re.compile(
        r"(?<![0-9])(?P<cc>\+86[-\s]?)?(?P<a>1[3-9][0-9])[-\s]?(?P<b>[0-9]{4})[-\s]?"
        r"(?P<c>[0-9]{4})(?![0-9])"), _phone_mobile, BOTH, ZH),
    # 400 and 800 service numbers: 10 digits read 3-3-4.
    Rule("phone-service", re.compile(
        r"(?<![0-9])(?P<a>[48]00)[-\s]?(?P<b>[0-9]{3})[-\s]?(?P<c>[0-9]{4})(?![0-9])"),
        _phone_service, BOTH, ZH),
    # Landlines: an area code starting 0 (in brackets or followed by - or a space), 7-8 digits, an
    # optional extension. Without a separator the code rule reads it (same digits, no pause).
    Rule("phone-landline", re.compile(
        r"(?<![0-9])(?:[(（](?P<area1>0[0-9]{2,3})[)）]\s?|(?P<area2>0[0-9]{2,3})[-\s])"
        r"(?P<local>[1-9][0-9]{6,7})(?:(?:-|转|\s?ext\.?\s?)(?P<ext>[0-9]{1,6}))?(?![0-9])"),
        _phone_landline, BOTH, ZH),
    # Hotlines and other digit strings (postcodes, stock codes, serial numbers) are read digit
    # by digit in context: after 热线/电话/拨打/邮编/代码/编号..., or before 热线/专线 (the
    # well-known service numbers also without it, see below). Not when a measure word follows:
    # 电话1000余次 is a count.
    Rule("hotline", re.compile(
        r"(?P<ctx>热线|电话|拨打|致电|专线|传真|呼叫|号码|邮编|邮政编码|代码|编号|账号|卡号|工号|单号)(?P<mid>[:：\s]{0,2}(?:为|是)?[:：\s]{0,2})"
        rf"(?P<num>[0-9]{{3,11}})(?![0-9]){_MEASURE_AHEAD}"
        r"|(?<![0-9.])(?<![0-9],)(?P<num2>[0-9]{3,6})(?=\s?(?:服务)?(?:热线|专线))"),
        lambda m: _hotline(m) if m.group("num") else _phone(m.group("num2")), BOTH, ZH),
    # The service numbers of the table above, as whole numbers: not part of a longer number
    # (1,110, 3.110, 0.120), not glued to a Latin letter (G110 is a road, 120fps a rate), not a
    # count or amount (see the two word lists), not an end of a range (100-120, 110至120).
    Rule("service-number", re.compile(
        rf"(?<![0-9.A-Za-z¥￥$€£+−{_NOT_SERVICE_BEFORE}-])(?<![0-9][, ])(?<![-~〜—–]\s)"
        rf"(?:{_alternation(_SERVICE_NUMBERS)})(?![0-9A-Za-z]|[.,][0-9])"
        rf"(?!\s?(?:{_alternation(_NOT_SERVICE_NEXT)}|(?:{_UNIT_ALT})(?![A-Za-z])|[%‰‱℃°]"
        r"|(?:——|[-~〜—–]|至|到)\s?[-−]?[0-9]))"), _code, BOTH, ZH),
    # Generation words: 00后, 90后, 80、90后 are read digit by digit (零零后, 九零后), as people say
    # them. Not the minutes of a time (20:30后, 9点30后) and not 后面 (排在20后面).
    Rule("generation", re.compile(
        r"(?<![0-9.:：点时])[0-9]{2}(?=(?:、[0-9]{2})*后(?![面边头]))"),
        lambda m: read_digits(m.group()), FULL, ZH),
    # Codes, not quantities: a digit run over 11 digits (ID numbers, order numbers) or a leading 0
    # with 3+ digits (007, 0023). Not the 0 of 0.5, not a part of 1,000, 100 000 or 3.014.
    Rule("code", re.compile(
        r"(?<![0-9.])(?<![0-9][, ])(?:0[0-9]{2,}|[1-9][0-9]{11,})(?![0-9]|[.,][0-9])"),
        _code, BOTH, ZH),
]

# Document numbers: issuer〔year〕N号, with 〔〕 (the official form) or the brackets people type.
_DOCNUM = re.compile(
    r"[〔\[【(（](?P<year>(?:1[89]|20)[0-9]{2})[〕\]】)）]\s?(?P<di>第)?(?P<no>[0-9]{1,6})\s?号")

# ===================================================================== dates and times


def _date_ymd(m: re.Match[str]) -> str:
    return (read_year(m.group("y")) + "年" + read_integer(int(m.group("m"))) + "月"
            + read_integer(int(m.group("d"))) + "日")


def _date_ym(m: re.Match[str]) -> str:
    return read_year(m.group("y")) + "年" + read_integer(int(m.group("m"))) + "月"


def _clock(text: str) -> str:
    """Read h:mm or h:mm:ss (either colon): 08:05 -> 八点零五分, 20:00 -> 二十点整."""
    parts = [int(p) for p in re.split(r"[:：]", text)]
    hour = "两" if parts[0] == 2 else read_integer(parts[0])
    minute, second = parts[1], parts[2] if len(parts) > 2 else None
    if minute == 0 and not second:
        return hour + "点整"
    out = hour + "点" + ("零" if 0 < minute < 10 else "") + read_integer(minute) + "分"
    if second is not None:
        out += ("零" if 0 < second < 10 else "") + read_integer(second) + "秒"
    return out


def _time(m: re.Match[str]) -> str:
    text = _clock(m.group("t1"))
    if m.group("t2"):
        text += "至" + _clock(m.group("t2"))
    return text


def _year_range(m: re.Match[str]) -> str:
    a, b = m.group("a"), m.group("b")
    return read_year(a) + "至" + read_year(b) if int(b) > int(a) else m.group()


def _year_range_light(m: re.Match[str]) -> str:
    a, b = m.group("a"), m.group("b")
    return a + "至" + b if int(b) > int(a) else m.group()


def _ratio(m: re.Match[str]) -> str:
    context = m.groupdict()
    return (context.get("ctx") or "") + (context.get("mid") or "") + (
        read_number(m.group("a")) + "比" + read_number(m.group("b")))


# Two years joined by a slash, the later one second: a season or a school or financial year
# (2025/2026赛季), not the fraction 2025/2026. A hyphen between years is left to the range rules.
_YEAR_RANGE = re.compile(
    r"(?<![0-9./])(?P<a>(?:1[5-9]|20)[0-9]{2})\s?/\s?(?P<b>(?:1[5-9]|20)[0-9]{2})"
    r"(?![0-9]|[./][0-9])")

# A clock time: hour 0-24, two-digit minutes, optional seconds. 3:2 (one-digit minutes) is not one.
_CLOCK = r"(?:[01]?[0-9]|2[0-4])[:：][0-5][0-9](?:[:：][0-5][0-9])?"

_DATES: list[Rule] = [
    Rule("docnum", _DOCNUM, _docnum, FULL, ZH),
    Rule("docnum-light", _DOCNUM, _docnum_light, LIGHT, ZH),
    # Numeric dates, year first, one separator used throughout; month and day must be valid so
    # 2025.15.40 stays a pair of numbers. A trailing .digit means a version number, not a date.
    Rule("date-ymd", re.compile(
        r"(?<![0-9.])(?P<y>1[0-9]{3}|20[0-9]{2})(?P<sep>[-/.])(?P<m>0?[1-9]|1[0-2])(?P=sep)"
        r"(?P<d>0?[1-9]|[12][0-9]|3[01])(?![0-9]|\.[0-9])"), _date_ymd, FULL, ZH),
    # Year and month: a two-digit month after - or /. Not after "." (1999.10元 is a price).
    Rule("date-ym", re.compile(
        r"(?<![0-9.])(?P<y>1[0-9]{3}|20[0-9]{2})[-/](?P<m>0[1-9]|1[0-2])(?![0-9]|[-/.][0-9])"),
        _date_ym, FULL, ZH),
    Rule("year-range", _YEAR_RANGE, _year_range, FULL, ZH),
    Rule("year-range-light", _YEAR_RANGE, _year_range_light, LIGHT, ZH),
    # Scores and scales: after 比分, 比例, 以 (以3:2获胜) a colon pair is a ratio even when it looks
    # like a clock time (比分21:19). Runs before the time rule for that reason.
    Rule("ratio-context", re.compile(
        rf"(?P<ctx>比分|比例尺|比例|比值|比率|以)(?P<mid>\s?[为是]?\s?)(?P<a>{_NUM})\s?[:：∶]\s?"
        rf"(?P<b>{_NUM})(?![0-9])"), _ratio, FULL, ZH),
    # Clock times, alone or as a range (9:00-17:00).
    Rule("time", re.compile(
        rf"(?<![0-9:：.])(?P<t1>{_CLOCK})(?:\s?{_RANGE_SEP}\s?(?P<t2>{_CLOCK}))?"
        r"(?![0-9]|[:：][0-9])"), _time, FULL, ZH),
    Rule("time-range-light", re.compile(
        rf"(?<![0-9:：.])(?P<t1>{_CLOCK})\s?(?:——|[-~〜—–])\s?(?P<t2>{_CLOCK})(?![0-9]|[:：][0-9])"),
        lambda m: m.group("t1") + "至" + m.group("t2"), LIGHT, ZH),
    # Three or more dotted numbers are a version or an address (3.14.15, 192.168.1.1): each part
    # is a number and the dots are 点. Dates with dots were read above.
    Rule("dotted", re.compile(r"(?<![0-9.])[0-9]{1,6}(?:\.[0-9]{1,6}){2,}(?![0-9]|\.[0-9])"),
         lambda m: "点".join(read_integer(int(p)) for p in m.group().split(".")), FULL, ZH),
    # Any colon pair left is a ratio (3:2 is not a valid time); ∶ (U+2236) is always a ratio.
    Rule("ratio", re.compile(rf"(?<![0-9.:：])(?P<a>{_NUM})\s?[:：∶]\s?(?P<b>{_NUM})(?![0-9])"),
         _ratio, FULL, ZH),
]

# ===================================================================== units and ranges


def _unit(m: re.Match[str]) -> str:
    return m.group("n") + _UNITS[m.group("u")]


def _unit_per(m: re.Match[str]) -> str:
    return "每" + (_UNITS[m.group("u")] if m.group("u") else "")


def _unit_symbol(m: re.Match[str]) -> str:
    return _UNITS[m.group()]


def _is_year(digits: str) -> bool:
    return len(digits) == 4 and digits[:2] in ("15", "16", "17", "18", "19", "20")


def _range_side(number: str, neg: str | None, percent: str | None, cold: bool,
                as_year: bool, liang: bool) -> str:
    """Read one side of a range."""
    if as_year:
        text = read_year(number)
    elif liang and number == "2":
        text = "两"
    else:
        text = read_number(number)
    if percent:
        text = ("千分之" if "‰" in percent else "百分之") + text
    if neg:
        text = ("零下" if cold else "负") + text
    return text


def _range_parts(m: re.Match[str]) -> tuple[str, str, bool] | None:
    """The two numbers of a range match, and whether it is a range at all.

    ~, —, 至 always make a range; a hyphen only when the second number is larger or a unit,
    percent sign or 年/月/日 says so (5-3 may be a score or a code, so it is left alone).
    """
    a, b = m.group("a"), m.group("b")
    string, end = _after(m)
    if m.group("sep") == "-" and not (m.group("bp") or m.group("neg") or m.group("bneg")):
        larger = float(b.replace(",", "")) > float(a.replace(",", ""))
        dated = string[end:end + 1] in ("年", "月", "日", "号")
        if not (larger or dated or _LIANG_NEXT.match(string, end)):
            return None
    return a, b, bool(_YEAR_SUFFIX_NEXT.match(string, end))


def _range(m: re.Match[str]) -> str:
    parts = _range_parts(m)
    if parts is None:
        return m.group()
    a, b, year_next = parts
    string, end = _after(m)
    percent = m.group("ap") or m.group("bp")
    quantity = bool(_LIANG_NEXT.match(string, end)) and not year_next
    liang = quantity and _counts(m)
    as_year = (_is_year(a) and _is_year(b) and not percent and not quantity
               and (year_next or int(b) > int(a)))
    cold = bool(_CELSIUS_NEXT.match(string, end))
    sep = m.group("sep") if m.group("sep") in ("至", "到") else "至"
    left = _range_side(a, m.group("neg"), percent, cold, as_year, liang)
    right = _range_side(b, m.group("bneg"), percent, cold, as_year, liang)
    return left + sep + right


def _range_light(m: re.Match[str]) -> str:
    if _range_parts(m) is None:
        return m.group()
    left = (m.group("neg") or "") + m.group("a") + (m.group("ap") or "")
    right = (m.group("bneg") or "") + m.group("b") + (m.group("bp") or "")
    sep = m.group("sep") if m.group("sep") in ("至", "到") else "至"
    return left + sep + right


def _percent(m: re.Match[str]) -> str:
    sign = m.group("s")
    prefix = {"%": "百分之", "‰": "千分之", "‱": "万分之"}[sign]
    number = m.group("n")
    text = prefix + ("百" if sign == "%" and number == "100" else read_number(number))
    return ("负" if m.group("neg") else "") + text


_CURRENCIES = {"¥": "元", "￥": "元", "$": "美元", "US$": "美元", "HK$": "港元", "€": "欧元",
               "£": "英镑"}


def _amount(number: str) -> str:
    """An amount of money: 2 is 两 (两元, 两万美元)."""
    return "两" if number == "2" else read_number(number)


def _money(m: re.Match[str]) -> str:
    name = _CURRENCIES[m.group("cur")]
    string, end = _after(m)
    text = _amount(m.group("a"))
    if m.group("b"):
        text += "至" + _amount(m.group("b"))
    text += (m.group("mag") or "").strip()
    return text if string.startswith(name, end) else text + name


# A range: optional minus (not after a digit or letter: 5-3 is not 5 and -3), a number, an
# optional percent sign, a separator, the second number with its own optional minus and percent.
_RANGE = re.compile(
    rf"(?:(?<![0-9A-Za-z.])(?P<neg>[-−]))?(?<![0-9.])(?P<a>{_NUM})(?P<ap>\s?[%‰])?"
    rf"\s?(?P<sep>{_RANGE_SEP})\s?(?P<bneg>[-−])?(?P<b>{_NUM})(?P<bp>\s?[%‰])?"
    r"(?![0-9]|\.[0-9])")

_UNIT_RULES: list[Rule] = [
    # A Latin unit is a unit only right after a number (5km, 5 km, 1.5万km); a letter before the
    # number (iPhone 5s, H7N9) or after the unit (5min is not 5 m + in) means it is not.
    Rule("unit", re.compile(
        rf"(?<![A-Za-z0-9.])(?<![A-Za-z] )(?P<n>{_NUM}(?:万|亿)?)\s?(?P<u>{_UNIT_ALT})"
        r"(?![A-Za-z0-9])"), _unit, FULL, ZH),
    # Symbol units are units wherever they stand (气温℃), unlike the Latin letters.
    Rule("unit-symbol", re.compile(rf"°[CF]|[{_UNIT_SYMBOLS}]"), _unit_symbol, FULL, ZH),
    # Currency signs before the number are read after it (¥100 -> 一百元); an optional range and
    # 万/亿 (¥1-2万) belong to the amount. ¥100元 does not get a second 元.
    Rule("money", re.compile(
        rf"(?P<cur>US\$|HK\$|[¥￥$€£])\s?(?P<a>{_NUM})(?:\s?{_RANGE_SEP}\s?[¥￥$€£]?(?P<b>{_NUM}))?"
        r"(?P<mag>\s?(?:万亿|亿|万|千))?"), _money, FULL, ZH),
    Rule("range", _RANGE, _range, FULL, ZH),
    Rule("range-light", _RANGE, _range_light, LIGHT, ZH),
    # A range whose first end is a date or year word: 5日-7日, 9月-10月, 2024年-2025年. Without
    # it the hyphen would make the second number negative.
    Rule("range-after-date", re.compile(r"(?<=[年月日号])\s?(?:——|[-~〜—–])\s?(?=[0-9])"),
         _const("至"), BOTH, ZH),
]

# ===================================================================== numbers


def _year(m: re.Match[str]) -> str:
    return read_year(m.group("y"))


def _fraction(m: re.Match[str]) -> str:
    return read_integer(int(m.group("b"))) + "分之" + read_integer(int(m.group("a")))


def _counts(m: re.Match[str]) -> bool:
    """False after 第 or 、 (第2名 and 第1、2名 are ordinals) and after a Latin letter (CO2排放,
    a chemical formula; A2排, a model number): such a 2 is read 二, never 两."""
    before = _before(m)
    return before not in ("第", "、") and not ("A" <= before <= "Z" or "a" <= before <= "z")


def _number(m: re.Match[str]) -> str:
    number, fraction = m.group("n"), m.group("f")
    string, end = _after(m)
    if number == "2" and not fraction and _counts(m) and _LIANG_NEXT.match(string, end):
        text = "两"
    else:
        text = read_number(number + (fraction or ""))
    if m.group("neg"):
        text = ("零下" if _CELSIUS_NEXT.match(string, end) else "负") + text
    return text


def _circle_zero(m: re.Match[str]) -> str:
    string, start, end = m.string, m.start(), m.end()
    numerals = "〇零一二三四五六七八九十○"
    near = (start and string[start - 1] in numerals) or string[end:end + 1] in numerals
    return "〇" if near else ""


def _spell(m: re.Match[str]) -> str:
    return " ".join(m.group())


_NUMBER_RULES: list[Rule] = [
    # Percent, permille, per ten thousand: the sign is read first (百分之), so it has to move.
    # A minus in front is a sign only when no digit or letter comes before it.
    Rule("percent", re.compile(
        rf"(?:(?<![0-9A-Za-z.])(?P<neg>[-−]))?(?<![0-9.])(?P<n>{_NUM})\s?(?P<s>[%‰‱])"),
        _percent, FULL, ZH),
    # A 4-digit year before 年 (or a word that counts in years: 届, 级, 款, 赛季) is read digit by
    # digit. Only 1500-2099: 1000年 and 300年 are durations and are read as numbers.
    Rule("year", re.compile(
        r"(?<![0-9.])(?P<y>(?:1[5-9]|20)[0-9]{2})(?=\s?(?:年|届|级|款|版|赛季|财年|学年))"),
        _year, FULL, ZH),
    # A bare 19xx/20xx right before a Han word is a year (2025世界智能产业博览会), unless the word
    # is a measure word, unit or quantity word (5000家 is not a year, nor is 2000多).
    Rule("year-bare", re.compile(
        rf"(?<![0-9.])(?<![0-9],)(?P<y>(?:19|20)[0-9]{{2}})(?=[{_HAN}])"
        rf"(?!{_alternation(_NOT_YEAR)})"), _year, FULL, ZH),
    # a/b between plain integers is a fraction (dates with / were read by the date rules).
    Rule("fraction", re.compile(
        r"(?<![0-9./])(?P<a>[0-9]{1,6})/(?P<b>[1-9][0-9]{0,5})(?![0-9]|/[0-9]|\.[0-9])"),
        _fraction, FULL, ZH),
    # Every other number: 1,000 or 100 000 grouping, decimals, a sign; 2 before a measure word
    # is 两 except after 第 (第二个); a minus before a temperature is 零下.
    Rule("number", re.compile(
        r"(?:(?<![0-9A-Za-z.])(?P<neg>[-−]))?(?<![0-9.])"
        r"(?P<n>[0-9]{1,3}(?:,[0-9]{3})+(?![0-9])|[0-9]{1,3}(?: [0-9]{3})+(?![0-9])|[0-9]+)"
        r"(?P<f>\.[0-9]+)?"), _number, FULL, ZH),
    # Anything still in digits (the 15 of 3.14.15) is read digit by digit, so no digit reaches
    # the offline voice.
    Rule("leftover-digits", re.compile(r"[0-9]+"), lambda m: read_digits(m.group()), FULL, ZH),
    # "per" between a Chinese unit and another unit: 元/吨, 元/m², 人/天. After the number rules, so
    # the 元 written by the money rule (¥5/kg) is there too.
    Rule("unit-per", re.compile(
        rf"(?<=[元米克吨斤次人个件台度])/(?:(?P<u>{_UNIT_ALT})(?![A-Za-z0-9])"
        r"|(?=[天月年人次小吨千公斤平立米件个台户亩度秒分周]))"), _unit_per, FULL, ZH),
    # ○ (white circle) typed for 〇 in 二○二五年; anywhere else it is a bullet and goes.
    Rule("circle-zero", re.compile(r"○"), _circle_zero, BOTH, ZH),
    # + after a word or between numbers is 加 (人工智能+, 1+1), = is 等于.
    Rule("plus", re.compile(r"\+"), _const("加"), FULL, ZH),
    Rule("equals", re.compile(r"="), _const("等于"), FULL, ZH),
    # 2-6 capitals standing alone (no letter on either side) are spelled: a Chinese voice then says
    # each letter. Words in lower or mixed case (iPhone, Wi-Fi) are left to the voice.
    Rule("acronym", re.compile(r"(?<![A-Za-z])[A-Z]{2,6}(?![A-Za-z])"), _spell, FULL, ZH),
]


RULES: tuple[Rule, ...] = tuple(
    _SAFETY + _ADDRESSES + _PHONES + _DATES + _UNIT_RULES + _NUMBER_RULES
)

_PLANS: dict[str, tuple[Rule, ...]] = {
    level: tuple(rule for rule in RULES if level in rule.levels) for level in LEVELS
}

# ===================================================================== entry point

# The last guard: nothing that could be read as markup, no control character (C0, DEL, C1).
_UNSAFE = re.compile(r"[<>&\x00-\x1f\x7f-\x9f]")
_SPACES = re.compile(r"\s+")


def language(text: str) -> Lang:
    """``"en"`` for text with Latin letters and no Han character, else ``"zh"``.

    Text with neither (``20:18``, ``35%``) is Chinese: it is a fragment of a Chinese page, cut out
    between two lexicon words.
    """
    if _HAN_RE.search(text):
        return "zh"
    return "en" if _LATIN_RE.search(text) else "zh"


def normalize(text: str, level: Level = "full") -> str:
    """Turn display text into text to speak at the given level (see the module docstring)."""
    try:
        plan = _PLANS[level]
    except KeyError:
        raise ValueError(f"unknown normalisation level {level!r}: use 'full' or 'light'") from None
    lang: Lang | None = None
    for rule in plan:
        if rule.langs != ANY:
            if lang is None:
                lang = language(text)
            if lang not in rule.langs:
                continue
        text = rule.pattern.sub(rule.replace, text)
    return _SPACES.sub(" ", _UNSAFE.sub(" ", text)).strip()

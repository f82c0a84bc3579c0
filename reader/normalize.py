"""Display text -> text to speak: numbers, dates, units and symbols spelled out for a voice.

``normalize(text, level)`` takes a span of display text (a sentence, or the part of one between two
pronunciation-lexicon words) and returns what a TTS engine is given. The number readings the rules
use (一百零五, 两千, 二〇二五, 幺二三) are in ``reader.normalize_numbers``; which reading a number
gets is decided here.

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
    circle-zero       x  x  zh     二○二五 (○ U+25CB typed for 〇) -> 二〇二五; other ○ dropped
    email-zh/-en      x     zh/en  a1@qq.com -> a 幺 at qq 点 com / a1 at qq dot com
    url-zh/-en        x     zh/en  https://www.cq.gov.cn/x?id=1 -> www 点 cq 点 gov 点 cn 斜杠 x
    latin-hyphen      x     zh     COVID-19, F-35 -> COVID19, F35 (a word's number, not a minus)
    letter-pair       x  x  zh     O2O, B2B, P2P -> O to O, B to B, P to P
    phone-mobile      x  x  zh     13812345678 -> 幺三八 幺二三四 五六七八
    phone-service     x  x  zh     400-123-4567 -> 四零零 幺二三 四五六七
    phone-landline    x  x  zh     023-63851234, (023)63851234, 86-23-63851234 -> 零二三 六三八五...
    card              x  x  zh     6222 0212 3456 7890 -> 六二二二 零二幺二 三四五六 七八九零
    hotline           x  x  zh     热线12345, 拨打110, 邮编400015, 尾号1702 -> 热线幺二三四五 ...
    service-number    x  x  zh     110, 12306, 95598 ... as whole numbers anywhere -> 幺幺零 ...
                                   (not 10000: bare, it is 一万)
    generation        x     zh     00后, 90后, 80、90后 -> 零零后, 九零后, 八零、九零后
    code              x  x  zh     over 11 digits, or a leading 0 (0023) -> digit by digit; but
                                   第100000000000, 100100000000 (ends in 000) count
    room              x  x  zh     1802室, 1203房 -> 幺八零二室, 幺二零三房
    letter-code       x  x  zh     G1234次, CA1234, C919, G318 -> G幺二三四次 ... (3+ digits)
    docnum            x     zh     渝府发〔2025〕12号 -> 渝府发二〇二五年十二号
    docnum-light         x  zh     渝府发〔2025〕12号 -> 渝府发2025年12号
    date-ymd          x     zh     2025-09-05, 2025/9/5, 2025.09.05, 2019·2·10 -> 二〇二五年九月五日
    date-ymd-light       x  zh     2025.09.05, 2019·2·10 -> 2025年9月5日, 2019年2月10日
    date-yymd         x     zh     12/2/2, 12.2.3 -> 一二年二月二日 (not after 版本, v, 第)
    date-dmy          x     zh     10/02/2019 -> 二〇一九年二月十日 (12/25/2019: month first)
    date-ym           x     zh     2025-09, 2019/3, 03/2019 -> 二〇二五年九月 ...
    date-ym-dot       x     zh     2019.03至2021.06 -> 二〇一九年三月至二〇二一年六月 (not 2019.5万)
    date-ym-dot-light    x  zh     2019.03 -> 2019年3月
    date-md           x     zh     08-08, 12-05 10:30 -> 八月八日 ... (zero-padded; 10-12: range)
    date-md-light        x  zh     08-08 -> 8月8日
    event             x  x  zh     9·11, 7·20特大暴雨 -> 九一一, 七二〇特大暴雨
    meridiem          x  x  zh     3:04pm, 3点4分am -> 下午3:04, 上午3点4分 (then read as times)
    equation          x     zh     5-3=2 -> 5减3=2 (then read as numbers)
    score             x     zh     in a sentence about a match: 1-2, 17:16, 2/2 -> 一比二 ...
    score-light          x  zh     the same -> 1比2
    race-time         x     zh     成绩2:05:37, 1:45.23 (in a match) -> 两小时零五分三十七秒, ...
    year-range        x     zh     2025/2026赛季, 2025/26赛季 -> 二〇二五至二〇二六赛季
    year-range-light     x  zh     2025/2026赛季, 2025-26赛季 -> 2025至2026赛季
    ratio-context     x     zh     比分21:19, 以3:2 -> 比分二十一比十九 (before the time rule)
    time              x     zh     20:18, 08:05:30 -> 二十点十八分, 八点零五分三十秒
    time-range-light     x  zh     9:00-17:00 -> 9:00至17:00
    dotted            x     zh     3.14.15, 192.168.1.1 -> 三点十四点十五, ...
    ratio             x     zh     3:2 (not a time), 1∶1000 -> 三比二, 一比一千
    wan               x  x  zh     3w, 10w+, 月薪2W -> 3万, 10万+, 月薪2万 (100W快充 stays watts)
    unit              x     zh     5km, 30℃, 100㎡, 2GB, 100 USD -> 5公里, 30摄氏度, 100平方米,
                                   100美元 (digits stay for the number rules below)
    unit-symbol       x     zh     ℃ ° ㎡ ... standing alone -> 摄氏度 度 平方米 ...
    money             x     zh     ¥100, $5, HK$5, ₩5, USD 5, ¥1-2万, ¥36.00 -> 一百元, 五美元,
                                   五港元, 五韩元, 五美元, 一至两万元, 三十六元
    amount-zeros      x  x  zh     36.00元, 1999.10元 -> 36元, 1999.1元
    range             x     zh     1-10月, 3~5天, 10%-20%, 2019-2025年, -5~3℃ -> 一至十月 ...
    range-light          x  zh     1-10月, 3~5天, 10%-20% -> 1至10月, 3至5天, 10%至20%
    range-after-unit  x     zh     5公里-10公里 (from 5km-10km), 3天-5天 -> 5公里至10公里, 3天至5天
    range-after-date  x  x  zh     5日-7日, 九点整—下午五点整 -> 5日至7日, 九点整至下午五点整
    era               x     zh     2934ad, 1234b.c., 1823年3月bc -> 公元2934年, 公元前1234年 ...
    era-year          x     zh     公元前202年, 公元2934年 -> 公元前二〇二年, 公元二九三四年
    year-2digit       x     zh     05年, 86年8月18日 -> 〇五年, 八六年八月十八日 (50年: 五十年)
    approx            x  x  zh     ~5%, 误差~3mm -> 约5%, 误差约3mm (3~5 is a range, read above)
    plus-minus        x  x  zh     ±5, +-0.5 -> 正负5, 正负0.5
    percent           x     zh     35%, 5‰, -2% -> 百分之三十五, 千分之五, 负百分之二
    year              x     zh     2025年, 1600年, 2025届 -> 二〇二五年, 一六〇〇年, 二〇二五届 (but
                                   历时1600年, 1000年前 count years: 一千六百年, 一千年前)
    year-bare         x     zh     2025世界... (19xx/20xx, then no measure word) -> 二〇二五世界
    fraction          x     zh     1/3, -1/3 -> 三分之一, 负三分之一
    prime             x     zh     3′45″ -> 3分45秒
    split-second      x     zh     9秒83 -> 9秒八三
    rank              x     zh     No.1 -> 第1
    times             x     zh     3×4米, 3cm×4cm, 7*24, 10÷2 -> 3乘4米, ..., 7乘24, 10除以2
    vulgar-fraction   x     zh     ½, 1½ -> 二分之一, 1又二分之一
    minus-word        x     zh     -百分之1 -> 负百分之1
    number            x     zh     5000, 1.2, 100,000, -5, 2个 -> 五千, 一点二, 十万, 负五, 两个
                                   (but CO2排放 -> C O二排放: no 两 after a Latin letter)
    leftover-digits   x     zh     any digit still left -> digit by digit
    unit-per          x     zh     元/m², 元/吨, ¥5/kg -> 元每平方米, 元每吨, 五元每千克
    plus, equals      x     zh     人工智能+, 1+1=2 -> 人工智能加, 一加一等于二
    acronym           x     zh     AI, CMG, GDP, CSI -> A I, C M G, G D P, C S I; capitals that
                                   read as a word stay (GOOGLE, CHROME, NASA, COVID, ZIP)

After the rules, ``<``, ``>``, ``&`` and control characters are replaced once more (a guard: no rule
should leave one), whitespace is collapsed to single spaces and the ends are trimmed.

Known limits: a lone 9/5 is read as a fraction, not a date; 图1-2 is read as a range; a score
needs a word of sport in the same span (球队, 比赛, 战胜 ...; see ``_SPORT``); a bare
four-digit 19xx/20xx is a year only before a Han word that is not a measure word or unit (the word
lists are heuristics); capitals are read as a word when English could say them (``_sayable``), so
an acronym that looks like a word (SMIC) is not spelled, and a three-letter word is spelled
unless it is in ``_CAPITAL_WORDS``. At ``light`` level, unit symbols ℃ ℉ ° and the squared
units (㎡ ㎞ ...) are kept, because neural voices read them; at ``full`` level in Chinese text
they are spelled out.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal, get_args

from reader.normalize_numbers import (
    read_decimal,
    read_digits,
    read_integer,
    read_number,
    read_year,
)

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

# Short capital words that are English words, read as such (ZIP, PRO, MAX in product names);
# any other run of three capitals or fewer is spelled (GDP, CSI, VIP).
_CAPITAL_WORDS = frozenset("""
ZIP PRO MAX AIR NEO ONE TOP NEW BOX PAD POD PAY FUN JOY SKY SUN POP HOT BIG WIN
""".split())
# Consonant clusters English starts and ends a syllable with; a run of capitals whose clusters
# are all of these (and whose vowels are not doubled, IEEE, AIIB) can be read as a word.
_ONSETS = frozenset("""
BL BR CH CL CR DR FL FR GL GR KL KN KR PH PL PR QU SC SCH SCR SH SK SL SM SN SP SPL SPR ST STR
SW TH THR TR TW WH WR SQU CHR
""".split())
_CODAS = frozenset("""
CH CK CT FT GH GHT LD LF LK LL LM LP LS LT MB MP MS ND NDS NG NK NS NT NTS PS PT RB RC RD RF RG
RK RL RM RN RP RS RT RTH SH SK SP SS ST TH TS TCH WN WS XT
""".split())
_SYLLABLE_PARTS = re.compile(r"[AEIOUY]+|[^AEIOUY]+")
_DOUBLED_VOWEL = re.compile(r"([AIUY])\1")  # AA, II, UU are no English spelling; EE and OO are


def _cluster_ok(cluster: str, where: Literal["onset", "medial", "coda"]) -> bool:
    if len(cluster) == 1:
        return True
    if where == "onset":
        return cluster in _ONSETS
    if where == "coda":
        return cluster in _CODAS
    return len(cluster) == 2 or (len(cluster) == 3 and (
        cluster[1:] in _ONSETS or cluster[:2] in _CODAS))


def _sayable(word: str) -> bool:
    """Whether a run of capitals is read as a word (GOOGLE, CHROME, NASA, COVID) rather than
    spelled (GDP, CSI, IEEE, ICBC): a known short word, or four letters or more that are
    syllables English has. Seven or more letters with a vowel are a word (NATIVECLIENT)."""
    if word in _CAPITAL_WORDS:
        return True
    if len(word) < 4 or not set(word) & set("AEIOUY"):
        return False
    if len(word) >= 7:
        return True
    parts = _SYLLABLE_PARTS.findall(word)
    for index, part in enumerate(parts):
        if part[0] in "AEIOUY":
            if len(part) > 3 or _DOUBLED_VOWEL.search(part):
                return False
            continue
        where: Literal["onset", "medial", "coda"] = (
            "onset" if index == 0 else "coda" if index == len(parts) - 1 else "medial")
        if not _cluster_ok(part, where):
            return False
    return True


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
    "μg": "微克", "µg": "微克", "㎍": "微克",
    "g": "克", "t": "吨",
    "ml": "毫升", "mL": "毫升", "㎖": "毫升", "L": "升", "ℓ": "升",
    "TB": "太字节", "GB": "吉字节", "MB": "兆字节", "KB": "千字节", "kB": "千字节",
    "kWh": "千瓦时", "kW·h": "千瓦时", "㎾": "千瓦", "kW": "千瓦", "KW": "千瓦", "MW": "兆瓦",
    "㎿": "兆瓦", "GW": "吉瓦", "W": "瓦",
    "w": "瓦",  # only in words of power; elsewhere the wan rule has read it as 万 (3w元)
    "kV": "千伏", "㎸": "千伏", "V": "伏",
    "mAh": "毫安时", "mA": "毫安",
    "GHz": "吉赫兹", "㎓": "吉赫兹", "MHz": "兆赫兹", "㎒": "兆赫兹", "kHz": "千赫兹",
    "㎑": "千赫兹", "Hz": "赫兹", "㎐": "赫兹",
    "Gbps": "吉比特每秒", "Mbps": "兆比特每秒",
    "dB": "分贝", "㏈": "分贝", "ha": "公顷", "㏊": "公顷",
    "h": "小时", "min": "分钟", "ms": "毫秒", "s": "秒",
}
# ISO currency codes: before an amount (money rule) or after it, like a unit (100 USD).
_CURRENCY_CODES = {"CNY": "元", "RMB": "元", "USD": "美元", "HKD": "港元", "EUR": "欧元",
                   "GBP": "英镑", "JPY": "日元", "KRW": "韩元", "AUD": "澳元", "CAD": "加元"}
_UNITS.update(_CURRENCY_CODES)
# Words an amount of money ends in.
_MONEY_WORDS = ["元", "块", "角", "人民币", *sorted(set(_CURRENCY_CODES.values())), "新台币",
                "新加坡元", "卢布", "卢比"]
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
    # What the text must hold for the rule to change it at all: one of these characters, or a
    # match of this quick pattern ("" for any text). A rule that cannot change the text is not
    # run, which keeps the many rules cheap.
    needs: str | re.Pattern[str] = ""
    # needs as one search (None: any text), made once: normalize asks it of every span.
    probe: Callable[[str], object] | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        needs = self.needs
        if isinstance(needs, str):
            probe = re.compile(f"[{re.escape(needs)}]").search if needs else None
        else:
            probe = needs.search
        object.__setattr__(self, "probe", probe)

    def may_match(self, text: str) -> bool:
        return self.probe is None or self.probe(text) is not None


DIGITS = "0123456789"
CAPITALS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"

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
    Rule("entity", re.compile(CHARACTER_REFERENCE), _entity, BOTH, ANY, needs="&"),
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
         BOTH, ANY, needs="<"),
    # Arrows before comparisons, or "->" would become "- greater than". "<-" is left alone: a<-5
    # means a < -5.
    Rule("arrow-zh", re.compile(r"-+>|=>|[→⇒]"), _const("到"), BOTH, ZH, needs=">→⇒"),
    Rule("arrow-en", re.compile(r"-+>|=>|[→⇒]"), _const(" to "), BOTH, EN, needs=">→⇒"),
    # Two-character operators first so <= is one word, not "小于=". With no digit or letter on
    # either side the sign is a separator (首页>要闻动态, >> 更多), read as a pause.
    Rule("compare-zh", re.compile(r"<=|>=|<>|!=|[<>≤≥≠]"), _compare_zh, BOTH, ZH, needs="<>≤≥≠!"),
    Rule("compare-en", re.compile(r"<=|>=|<>|!=|[<>≤≥≠]"), _compare_en, BOTH, EN, needs="<>≤≥≠!"),
    Rule("ampersand-zh", re.compile(r"\s*&\s*"), _const("和"), BOTH, ZH, needs="&"),
    Rule("ampersand-en", re.compile(r"\s*&\s*"), _const(" and "), BOTH, EN, needs="&"),
]

# ===================================================================== e-mail and URLs

# A URL has a scheme, a leading www. or a known top-level domain (see _URL): quick to look for.
_NEEDS_URL = re.compile(r"://|www\.|\.(?:com|cn|net|org|gov|edu|int|info|io)")

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


def _circle_zero(m: re.Match[str]) -> str:
    string, start, end = m.string, m.start(), m.end()
    numerals = "〇零一二三四五六七八九十○0123456789"
    after = string[end:end + 1]  # "" at the end, which `in` would find in any string
    near = (start and string[start - 1] in numerals) or (after and after in numerals)
    return "〇" if near else ""


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
    # ○ (white circle) typed for 〇 in 二○二五年 (or 2○25); anywhere else it is a bullet and
    # goes, before any rule looks at what stands next to it.
    Rule("circle-zero", re.compile(r"○"), _circle_zero, BOTH, ZH, needs="○"),
    Rule("email-zh", _EMAIL, _email_zh, FULL, ZH, needs="@"),
    Rule("email-en", _EMAIL, _email_en, FULL, EN, needs="@"),
    Rule("url-zh", _URL, _url_zh, FULL, ZH, needs=_NEEDS_URL),
    Rule("url-en", _URL, _url_en, FULL, EN, needs=_NEEDS_URL),
]

# ===================================================================== letters with digits

_LETTERS: list[Rule] = [
    # A hyphen between a word and its number is not a minus: COVID-19, SARS-CoV-2, F-35 are said
    # COVID十九. Not after a unit glued to a number (5km-10km is a range).
    Rule("latin-hyphen", re.compile(r"(?<![0-9A-Za-z])(?P<w>[A-Za-z]+)-(?=[0-9])"),
         lambda m: m.group("w"), FULL, ZH, needs="-"),
    # Business models written letter-2-letter (O2O, B2B, P2P, C2M) are said "O to O".
    Rule("letter-pair", re.compile(r"(?<![A-Za-z0-9])(?P<a>[A-Z])2(?P<b>[A-Z])(?![A-Za-z0-9])"),
         lambda m: f"{m.group('a')} to {m.group('b')}", BOTH, ZH, needs=re.compile(r"[A-Z]2[A-Z]")),
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
    country = m.group("cc")
    prefix = ("加八六 " if country.startswith("+") else "八六 ") if country else ""
    area = m.group("area1") or m.group("area2") or m.group("area3")
    text = prefix + _phone(area, m.group("local"))
    return text + (" 转 " + _phone(m.group("ext")) if m.group("ext") else "")


def _hotline(m: re.Match[str]) -> str:
    return (m.group("ctx") or "") + (m.group("mid") or "") + _phone(m.group("num"))


def _code(m: re.Match[str]) -> str:
    return _phone(m.group())


def _long_quantity(m: re.Match[str]) -> bool:
    """A run of 12-16 digits that counts something: after 第 (第100000000000), before a measure
    word or unit, or ending in 000 (100100000000 is a round amount, an ID almost never is)."""
    digits = m.group()
    if digits[0] == "0" or len(digits) > 16:
        return False
    string, end = _after(m)
    return (_before(m) == "第" or digits.endswith("000")
            or bool(_LIANG_NEXT.match(string, end)))


def _long_code(m: re.Match[str]) -> str:
    return m.group() if _long_quantity(m) else _code(m)


def _letter_code(m: re.Match[str]) -> str:
    """G1234 -> G幺二三四; not a currency code (USD100) or a word (TOP100), which count."""
    prefix = m.group("p")
    if prefix in _CURRENCY_CODES or prefix in _CAPITAL_WORDS:
        return m.group()
    return prefix + _phone(m.group("d"))


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
    # 10000 (China Telecom) is not here: bare, it is ten thousand far more often (每天10000步);
    # after 拨打 or 热线 the hotline rule still reads it digit by digit.
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
        r"(?P<c>[0-9]{4})(?![0-9])"), _phone_mobile, BOTH, ZH, needs=DIGITS),
    # 400 and 800 service numbers: 10 digits read 3-3-4.
    Rule("phone-service", re.compile(
        r"(?<![0-9])(?P<a>[48]00)[-\s]?(?P<b>[0-9]{3})[-\s]?(?P<c>[0-9]{4})(?![0-9])"),
        _phone_service, BOTH, ZH, needs=DIGITS),
    # Landlines: an area code starting 0 (in brackets or followed by - or a space), or 86 and the
    # code without its 0 (86-21-31580000), 7-8 digits, an optional extension. Without a
    # separator the code rule reads it (same digits, no pause).
    Rule("phone-landline", re.compile(
        r"(?<![0-9])(?:[(（](?P<area1>0[0-9]{2,3})[)）]\s?|(?P<area2>0[0-9]{2,3})[-\s]"
        r"|(?P<cc>\+?86)[-\s](?P<area3>[1-9][0-9]{1,2})[-\s])"
        r"(?P<local>[1-9][0-9]{6,7})(?:(?:-|转|\s?ext\.?\s?)(?P<ext>[0-9]{1,6}))?(?![0-9])"),
        _phone_landline, BOTH, ZH, needs=DIGITS),
    # Card and account numbers written in groups of four (6222 0212 3456 7890): digit by digit,
    # a pause between groups.
    Rule("card", re.compile(r"(?<![0-9.,])[0-9]{4}(?: [0-9]{4}){2,}(?: [0-9]{1,4})?(?![0-9])"),
         lambda m: _phone(*m.group().split()), BOTH, ZH, needs=re.compile(r"[0-9]{4} [0-9]{4}")),
    # Hotlines and other digit strings (postcodes, stock codes, serial numbers) are read digit
    # by digit in context: after 热线/电话/拨打/邮编/代码/编号..., or before 热线/专线 (the
    # well-known service numbers also without it, see below). Not when a measure word follows:
    # 电话1000余次 is a count.
    Rule("hotline", re.compile(
        r"(?P<ctx>热线|电话|拨打|致电|专线|传真|呼叫|号码|邮编|邮政编码|代码|编号|账号|卡号|工号|单号"
        r"|尾号|车次|房号|房间|学号|证号|批号|编码|序列号|验证码|密码|账户|门牌号|QQ)"
        r"(?P<mid>号?[:：\s]{0,2}(?:为|是)?[:：\s]{0,2})"
        rf"(?P<num>[0-9]{{3,11}})(?![0-9]){_MEASURE_AHEAD}"
        r"|(?<![0-9.])(?<![0-9],)(?P<num2>[0-9]{3,6})(?=\s?(?:服务)?(?:热线|专线))"),
        lambda m: _hotline(m) if m.group("num") else _phone(m.group("num2")), BOTH, ZH,
        needs=DIGITS),
    # The service numbers of the table above, as whole numbers: not part of a longer number
    # (1,110, 3.110, 0.120), not glued to a Latin letter (G110 is a road, 120fps a rate), not a
    # count or amount (see the two word lists), not an end of a range (100-120, 110至120).
    Rule("service-number", re.compile(
        rf"(?<![0-9.A-Za-z¥￥$€£+−{_NOT_SERVICE_BEFORE}-])(?<![0-9][, ])(?<![-~〜—–]\s)"
        rf"(?:{_alternation(_SERVICE_NUMBERS)})(?![0-9A-Za-z]|[.,][0-9])"
        rf"(?!\s?(?:{_alternation(_NOT_SERVICE_NEXT)}|(?:{_UNIT_ALT})(?![A-Za-z])|[%‰‱℃°]"
        r"|(?:——|[-~〜—–]|至|到)\s?[-−]?[0-9]))"), _code, BOTH, ZH, needs=DIGITS),
    # Generation words: 00后, 90后, 80、90后 are read digit by digit (零零后, 九零后), as people say
    # them. Not the minutes of a time (20:30后, 9点30后) and not 后面 (排在20后面).
    Rule("generation", re.compile(
        r"(?<![0-9.:：点时])[0-9]{2}(?=(?:、[0-9]{2})*后(?![面边头]))"),
        lambda m: read_digits(m.group()), FULL, ZH, needs="后"),
    # Codes, not quantities: a digit run over 11 digits (ID numbers, order numbers) or a leading 0
    # with 3+ digits (007, 0023). Not the 0 of 0.5, not a part of 1,000, 100 000 or 3.014; not a
    # long number that counts (see _long_quantity), which the number rule reads.
    Rule("code", re.compile(
        r"(?<![0-9.])(?<![0-9][, ])(?:0[0-9]{2,}|[1-9][0-9]{11,})(?![0-9]|[.,][0-9])"),
        _long_code, BOTH, ZH, needs=DIGITS),
    # Rooms: 1802室, 302房间, 5号楼1203房 are said digit by digit (幺八零二室).
    Rule("room", re.compile(r"(?<![0-9.])[0-9]{3,5}(?=\s?(?:室|房间|房|号房)(?!子|屋|价|产|源))"),
         _code, BOTH, ZH, needs="室房"),
    # Train, flight, road and standard numbers: capitals glued to 3+ digits (G1234次, CA1234,
    # C919, G318国道, GB18030) are said digit by digit; fewer digits are a number (G20, F35).
    Rule("letter-code", re.compile(
        r"(?<![A-Za-z])(?P<p>[A-Z]{1,3})(?P<d>[0-9]{3,})(?![0-9]|\.[0-9])"),
        _letter_code, BOTH, ZH, needs=DIGITS),
]

# Document numbers: issuer〔year〕N号, with 〔〕 (the official form) or the brackets people type.
_DOCNUM = re.compile(
    r"[〔\[【(（](?P<year>(?:1[89]|20)[0-9]{2})[〕\]】)）]\s?(?P<di>第)?(?P<no>[0-9]{1,6})\s?号")

# ===================================================================== dates and times


def _date(year: str | None, month: str, day: str | None = None, *, light: bool = False) -> str:
    """A date in words (二〇二五年九月五日), or with digits for a neural voice (2025年9月5日)."""
    def number(digits: str) -> str:
        return str(int(digits)) if light else read_integer(int(digits))

    text = (year if light else read_year(year)) + "年" if year else ""
    text += number(month) + "月"
    return text + (number(day) + "日" if day else "")


def _date_ymd(m: re.Match[str]) -> str:
    return _date(m.group("y"), m.group("m"), m.group("d"))


# Before these a dotted triple is a version number (版本12.2.3, v12.2.3), not a date.
_VERSION_BEFORE = re.compile(r"(?:版本号?|版|[vV]|version)\s?[:：]?\s?$")


def _date_yymd(m: re.Match[str]) -> str:
    if _VERSION_BEFORE.search(m.string, max(0, m.start() - 8), m.start()):
        return m.group()
    return _date_ymd(m)


def _date_ymd_light(m: re.Match[str]) -> str:
    if m.group("sep") in "-/":  # read well as written
        return m.group()
    return _date(m.group("y"), m.group("m"), m.group("d"), light=True)


def _date_ym(m: re.Match[str]) -> str:
    return _date(m.group("y"), m.group("m"))


def _date_ym_light(m: re.Match[str]) -> str:
    return _date(m.group("y"), m.group("m"), light=True)


def _date_dmy(m: re.Match[str]) -> str:
    """a/b/yyyy: day first (10/02/2019), unless only month-first makes a date (12/25/2019)."""
    a, b = int(m.group("a")), int(m.group("b"))
    day, month = (b, a) if b > 12 >= a else (a, b)
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return m.group()
    return _date(m.group("y"), str(month), str(day))


def _date_md(m: re.Match[str]) -> str:
    return _date(None, m.group("m") or m.group("m1"), m.group("d") or m.group("d1"))


def _date_md_light(m: re.Match[str]) -> str:
    return _date(None, m.group("m") or m.group("m1"), m.group("d") or m.group("d1"), light=True)


def _event(m: re.Match[str]) -> str:
    """9·11, 7·20, 5·12: an event named by its date is said digit by digit (九一一, 七二〇)."""
    return read_year(m.group("m") + m.group("d"))


def _meridiem(m: re.Match[str]) -> str:
    """3:04pm -> 下午3:04 (the clock is read by the time rule); a 24-hour 13:10pm drops the pm,
    and a time already after 上午/下午/晚上 keeps its word."""
    hour = int(re.split(r"[:：点]", m.group("t"))[0])
    pm = m.group("ap")[0] in "pP"
    said = m.string[max(0, m.start() - 2):m.start()] in _DAY_PARTS
    if said or hour > 12:
        word = ""
    elif pm:
        word = "中午" if hour == 12 else "下午"
    else:
        word = "上午"
    return word + m.group("t")


# Words that already say which half of the day a time is in.
_DAY_PARTS = frozenset("上午 下午 中午 晚上 早上 凌晨 傍晚 夜里 夜间 清晨".split())

# A sentence about a match: a pair of numbers in it is a score (中国队1-2不敌日本队), not a
# range, a time or a fraction. Words only sport uses (局 and 队 alone are also 公安局, 工作队).
_SPORT = re.compile(
    "比分|战胜|击败|不敌|负于|输给|败给|战平|逼平|打平|逆转|获胜|取胜|险胜|大胜|完胜|力克|横扫|"
    "比赛|赛季|联赛|决赛|赛中|半场|全场|加时|点球|进球|射门|主场|客场|对阵|迎战|交手|球队|主队|"
    "客队|国家队|男足|女足|男篮|女篮|男排|女排|冠军|夺冠|夺金|金牌|银牌|铜牌|预赛|田径|马拉松|"
    "世界杯|亚洲杯|奥运|锦标赛|首局|次局|决胜局|"
    "战成|[0-9一二三四五六七八九第]局|[0-9一二三四五六七八九第]盘|[甲乙]级|中超|英超|西甲|意甲|德甲|NBA|CBA")
# After a number pair these make it a range or a date, even in a sentence about a match
# (奥运期间气温20-25℃, 比赛1-3日).
_NOT_SCORE_NEXT = re.compile(rf"\s?(?:(?:{_UNIT_ALT})(?![A-Za-z])|[%‰‱℃°年月日号])")
# Before a colon pair, these make it a clock time even in a sentence about a match (于19:30开赛).
_CLOCK_BEFORE = re.compile(r"(?:于|在|时间|时|晚|早|午|凌晨|今天|明天|昨天|日|号|从|截至|定于)\s?$")
_CLOCK_AFTER = re.compile(r"\s?(?:开始|开赛|开球|开打|举行|进行|起|前|后|许|左右|至|到|[-~〜—–])")


def _is_score(m: re.Match[str]) -> bool:
    """A number pair in a sentence about a match, that is neither a quantity, a date nor a time."""
    string, start, end = m.string, m.start(), m.end()
    if not _SPORT.search(string) or _before(m) == "第":
        return False
    if _LIANG_NEXT.match(string, end) or _NOT_SCORE_NEXT.match(string, end):
        return False
    if m.group("sep") in ":：":
        # 19:30, 20:00 are kick-off times: a score rarely ends in 00, 15, 30 or 45 of a clock
        on_the_clock = int(m.group("a")) <= 24 and m.group("b") in ("00", "15", "30", "45")
        return not (on_the_clock or _CLOCK_BEFORE.search(string, max(0, start - 4), start)
                    or _CLOCK_AFTER.match(string, end))
    if m.group("sep") == "/":  # 2/2 is a score; 1/4决赛, 1/3的球员 are fractions
        return int(m.group("a")) >= int(m.group("b")) and not string.startswith("决赛", end)
    return True


def _score(m: re.Match[str]) -> str:
    if not _is_score(m):
        return m.group()
    return read_integer(int(m.group("a"))) + "比" + read_integer(int(m.group("b")))


def _score_light(m: re.Match[str]) -> str:
    return m.group("a") + "比" + m.group("b") if _is_score(m) else m.group()


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


def _years(m: re.Match[str]) -> tuple[str, str] | None:
    """The two years of a year range, the second written in full (2025/26 -> 2025, 2026); None
    when the second is not later (a fraction), or a two-digit end is not the next year."""
    a, b = m.group("a"), m.group("b") or m.group("b2")
    if len(b) == 2:
        b = str(int(a) + 1)
        if b[2:] != (m.group("b2") or ""):
            return None
    return (a, b) if int(b) > int(a) else None


def _year_range(m: re.Match[str]) -> str:
    years = _years(m)
    return read_year(years[0]) + "至" + read_year(years[1]) if years else m.group()


def _year_range_light(m: re.Match[str]) -> str:
    years = _years(m)
    return years[0] + "至" + years[1] if years else m.group()


# Before a race time these make h:mm:ss a length of time (成绩2:05:37), not a clock.
_RACE_BEFORE = re.compile(r"(?:成绩|用时|耗时|时长|跑出|游出|完赛|历时|纪录)(?:为|是)?\s?$")


def _race_time(m: re.Match[str]) -> str:
    """2:05:37 -> 两小时零五分三十七秒, 1:45.23 -> 一分四十五秒二三, after a race word or in a
    sentence about a match; elsewhere it is left to the time rule."""
    race = (_RACE_BEFORE.search(m.string, max(0, m.start() - 6), m.start())
            or _SPORT.search(m.string))
    if not race or not (m.group("h") or m.group("f")):  # 12:05 alone is a clock
        return m.group()
    parts = [m.group("h"), m.group("m"), m.group("s")]
    names = ["小时", "分", "秒"]
    text = ""
    for part, name in zip(parts, names, strict=True):
        if part is not None:
            value = int(part)
            padded = "零" if text and 0 < value < 10 else ""
            text += padded + ("两" if value == 2 and not text else read_integer(value)) + name
    return text + read_digits(m.group("f") or "")


def _ratio(m: re.Match[str]) -> str:
    context = m.groupdict()
    return (context.get("ctx") or "") + (context.get("mid") or "") + (
        read_number(m.group("a")) + "比" + read_number(m.group("b")))


# Two years joined by a slash, the later one second: a season or a school or financial year
# (2025/2026赛季), not the fraction 2025/2026. A hyphen between years is left to the range rules.
# 2025/26赛季, 2025-26赛季: the second year in two digits, before a word of seasons.
_YEAR_RANGE = re.compile(
    r"(?<![0-9./])(?P<a>(?:1[5-9]|20)[0-9]{2})\s?(?:/\s?(?P<b>(?:1[5-9]|20)[0-9]{2})"
    r"|[/-]\s?(?P<b2>[0-9]{2})(?=\s?(?:赛季|财年|学年|年度|年)))(?![0-9]|[./][0-9])")

# A clock time: hour 0-24, two-digit minutes, optional seconds. 3:2 (one-digit minutes) is not one.
_CLOCK = r"(?:[01]?[0-9]|2[0-4])[:：][0-5][0-9](?:[:：][0-5][0-9])?"

# Middle dots between a month and a day (9·11): the Chinese one, a bullet, the katakana one and
# the hyphenation point Taiwanese pages use.
_DOTS = "·•・‧"
# After a year.month, these make it an amount (2019.5万元, 1999.10元), not a date.
_AMOUNT_NEXT = re.compile(
    rf"\s?(?:{_alternation(_MEASURES)}|以上|以下|以内|多|余|美元|欧元|英镑|日元|港元|人民币|[%‰A-Za-z])")
# A year.month date: 2019.03 in a CV (2019.03至2021.06任区长); 1950-2099, month 1-12, and not an
# amount (see _AMOUNT_NEXT) or a price (¥2019.10).
_DATE_YM_DOT = re.compile(
    r"(?<![0-9.¥￥$€£])(?P<y>19[5-9][0-9]|20[0-9]{2})\.(?P<m>0[1-9]|1[0-2]|[1-9])"
    rf"(?![0-9]|\.[0-9])(?!{_AMOUNT_NEXT.pattern})")
# Quick probes for the date rules below (what each needs before its full pattern is tried).
_NEEDS_YMD = re.compile(r"[0-9][-/.·][0-9]{1,2}[-/.·][0-9]")
_NEEDS_YM_DOT = re.compile(r"[0-9]{4}\.[0-9]")
_NEEDS_MD = re.compile(r"[0-9]-[0-9]")
_NEEDS_PAIR = re.compile(r"[0-9]\s?[-:：/]\s?[0-9]")  # a number pair (_SPORT is slower to seek)
_NEEDS_YEARS = re.compile(r"[0-9]\s?[/-]\s?[0-9]")
_DATE_YMD = re.compile(
    r"(?<![0-9.·])(?P<y>1[0-9]{3}|20[0-9]{2})(?P<sep>[-/.·])(?P<m>0?[1-9]|1[0-2])(?P=sep)"
    r"(?P<d>0?[1-9]|[12][0-9]|3[01])(?![0-9]|\.[0-9])")
# Month-day with a hyphen, zero-padded (see the date-md rule).
_DATE_MD = re.compile(
    r"(?<![0-9./:-])(?:(?P<m>0[1-9])-(?P<d>0[1-9]|[12][0-9]|3[01])|(?P<m1>1[0-2])-(?P<d1>0[1-9]))"
    rf"(?![0-9]|[-./][0-9])(?!\s?(?:[年月日号]|{_alternation(_MEASURES)}))")
# A pair of small numbers that may be a score: 1-2, 17:16, 2/2 (see _is_score).
_SCORE = re.compile(
    r"(?<![0-9.:：/-])(?P<a>[0-9]{1,3})\s?(?P<sep>[-:：/])\s?(?P<b>[0-9]{1,3})"
    r"(?![0-9]|[.:：/-][0-9])")

_DATES: list[Rule] = [
    Rule("docnum", _DOCNUM, _docnum, FULL, ZH, needs="〔[【(（"),
    Rule("docnum-light", _DOCNUM, _docnum_light, LIGHT, ZH, needs="〔[【(（"),
    # Numeric dates, year first, one separator used throughout (- / . or the middle dot of
    # 2019·2·10); month and day must be valid so 2025.15.40 stays a pair of numbers. A trailing
    # .digit means a version number, not a date.
    Rule("date-ymd", _DATE_YMD, _date_ymd, FULL, ZH, needs=_NEEDS_YMD),
    # A neural voice reads 2025-09-05 and 2025/9/5 well, but not the dotted forms.
    Rule("date-ymd-light", _DATE_YMD, _date_ymd_light, LIGHT, ZH, needs=_NEEDS_YMD),
    # A two-digit year first (12/2/2, 12.2.3 are 一二年二月二日). Not a version or a section
    # (版本12.2.3, iOS 12.2.3, 第11.5.2条, 10.1.1节): no letter or 第 before, no measure word
    # after, and see _VERSION_BEFORE.
    Rule("date-yymd", re.compile(
        r"(?<![0-9./·A-Za-z第])(?<![A-Za-z] )(?P<y>[0-9]{2})(?P<sep>[/.])(?P<m>0?[1-9]|1[0-2])"
        r"(?P=sep)(?P<d>0?[1-9]|[12][0-9]|3[01])(?![0-9]|\.[0-9])"
        rf"(?!{_AMOUNT_NEXT.pattern})"), _date_yymd, FULL, ZH,
        needs=re.compile(r"[0-9][/.][0-9]{1,2}[/.][0-9]")),
    # Day/month/year with slashes (10/02/2019), month first only when the day shows it (12/25/2019).
    Rule("date-dmy", re.compile(
        r"(?<![0-9./])(?P<a>[0-9]{1,2})/(?P<b>[0-9]{1,2})/(?P<y>(?:1[5-9]|20)[0-9]{2})"
        r"(?![0-9]|/[0-9])"), _date_dmy, FULL, ZH, needs=re.compile(r"[0-9]/[0-9]{1,2}/[0-9]{4}")),
    # Year and month after - or / (2025-09, 2019/3), and month/year (03/2019); not a range of
    # amounts (1000-10人). Not after "." unless it is a date by the strict rule below (1999.10元
    # is a price).
    Rule("date-ym", re.compile(
        r"(?<![0-9.])(?P<y>1[0-9]{3}|20[0-9]{2})[-/](?P<m>0?[1-9]|1[0-2])(?![0-9]|[-/.][0-9])"
        rf"(?!{_AMOUNT_NEXT.pattern})"
        r"|(?<![0-9./])(?P<m2>0?[1-9]|1[0-2])/(?P<y2>(?:19|20)[0-9]{2})(?![0-9]|/[0-9])"),
        lambda m: _date(m.group("y") or m.group("y2"), m.group("m") or m.group("m2")),
        FULL, ZH, needs=re.compile(r"[0-9][-/][0-9]")),
    Rule("date-ym-dot", _DATE_YM_DOT, _date_ym, FULL, ZH, needs=_NEEDS_YM_DOT),
    Rule("date-ym-dot-light", _DATE_YM_DOT, _date_ym_light, LIGHT, ZH, needs=_NEEDS_YM_DOT),
    # Month-day with a hyphen, zero-padded as news timestamps write it (08-08, 12-05 10:30); an
    # unpadded 10-12 is a range. Not before 年/月/日 or a measure word (01-03月 is a range).
    Rule("date-md", _DATE_MD, _date_md, FULL, ZH, needs=_NEEDS_MD),
    Rule("date-md-light", _DATE_MD, _date_md_light, LIGHT, ZH, needs=_NEEDS_MD),
    # An event named by its month and day with a middle dot: 9·11, 7·20特大暴雨, 5·12汶川地震.
    Rule("event", re.compile(
        rf"(?<![0-9.{_DOTS}])(?P<m>[1-9]|1[0-2])[{_DOTS}](?P<d>[1-9]|[12][0-9]|3[01])"
        rf"(?![0-9]|[{_DOTS}.][0-9])"), _event, BOTH, ZH, needs=_DOTS),
    # am/pm after a clock time (3:04pm, 3点4分am) becomes 上午/下午 before it.
    Rule("meridiem", re.compile(
        r"(?P<t>(?:[01]?[0-9]|2[0-4])[:：][0-5][0-9](?:[:：][0-5][0-9])?"
        r"|[0-9]{1,2}点(?:差?[0-9]{1,2}分)?(?:[0-9]{1,2}秒)?)\s?(?P<ap>[aApP]\.?[mM]\.?)"
        r"(?![A-Za-z0-9])"),
        _meridiem, BOTH, ZH, needs=re.compile(r"[0-9点分秒]\s?[aApP]\.?[mM]")),
    # In an equation (5-3=2) a hyphen between numbers is 减: before the range rules read 5-3 as
    # a range.
    Rule("equation", re.compile(r"(?<=[0-9)）])\s?[-−]\s?(?=[0-9(（])(?=[^=，。；;]*=)"),
         _const("减"), FULL, ZH, needs="="),
    # Scores in a sentence about a match (中国队1-2不敌日本队, 17:16, 2/2): before the time,
    # ratio and range rules, which would read them as a time or a range.
    Rule("score", _SCORE, _score, FULL, ZH, needs=_NEEDS_PAIR),
    Rule("score-light", _SCORE, _score_light, LIGHT, ZH, needs=_NEEDS_PAIR),
    # Race times (成绩2:05:37, 1:45.23 in a sentence about a match) are lengths of time.
    Rule("race-time", re.compile(
        r"(?<![0-9:：.])(?:(?P<h>[0-9]{1,2})[:：])?(?P<m>[0-5]?[0-9])[:：](?P<s>[0-5][0-9])"
        r"(?:\.(?P<f>[0-9]{1,3}))?(?![0-9]|[:：][0-9])"), _race_time, FULL, ZH,
        needs=re.compile(r"[0-9][:：][0-9]{2}(?:[:：]|\.[0-9])")),
    Rule("year-range", _YEAR_RANGE, _year_range, FULL, ZH, needs=_NEEDS_YEARS),
    Rule("year-range-light", _YEAR_RANGE, _year_range_light, LIGHT, ZH, needs=_NEEDS_YEARS),
    # Scores and scales: after 比分, 比例, 以 (以3:2获胜) a colon pair is a ratio even when it looks
    # like a clock time (比分21:19). Runs before the time rule for that reason.
    Rule("ratio-context", re.compile(
        rf"(?P<ctx>比分|比例尺|比例|比值|比率|以)(?P<mid>\s?[为是]?\s?)(?P<a>{_NUM})\s?[:：∶]\s?"
        rf"(?P<b>{_NUM})(?![0-9])"), _ratio, FULL, ZH, needs=":：∶"),
    # Clock times, alone or as a range (9:00-17:00).
    Rule("time", re.compile(
        rf"(?<![0-9:：.])(?P<t1>{_CLOCK})(?:\s?{_RANGE_SEP}\s?(?P<t2>{_CLOCK}))?"
        r"(?![0-9]|[:：][0-9])"), _time, FULL, ZH, needs=":："),
    Rule("time-range-light", re.compile(
        rf"(?<![0-9:：.])(?P<t1>{_CLOCK})\s?(?:——|[-~〜—–])\s?(?P<t2>{_CLOCK})(?![0-9]|[:：][0-9])"),
        lambda m: m.group("t1") + "至" + m.group("t2"), LIGHT, ZH, needs=":："),
    # Three or more dotted numbers are a version or an address (3.14.15, 192.168.1.1): each part
    # is a number and the dots are 点. Dates with dots were read above.
    Rule("dotted", re.compile(r"(?<![0-9.])[0-9]{1,6}(?:\.[0-9]{1,6}){2,}(?![0-9]|\.[0-9])"),
         lambda m: "点".join(read_integer(int(p)) for p in m.group().split(".")), FULL, ZH,
         needs=re.compile(r"[0-9]\.[0-9]+\.[0-9]")),
    # Any colon pair left is a ratio (3:2 is not a valid time); ∶ (U+2236) is always a ratio.
    Rule("ratio", re.compile(rf"(?<![0-9.:：])(?P<a>{_NUM})\s?[:：∶]\s?(?P<b>{_NUM})(?![0-9])"),
         _ratio, FULL, ZH, needs=":：∶"),
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


# Currency signs and ISO codes before an amount, and the word said after it. ¥ is 元 (in Chinese
# copy it is the renminbi); the codes also read after an amount (100 USD), through _UNITS.
_CURRENCIES = {"¥": "元", "￥": "元", "$": "美元", "US$": "美元", "HK$": "港元", "A$": "澳元",
               "C$": "加元", "S$": "新加坡元", "NT$": "新台币", "€": "欧元", "£": "英镑",
               "₩": "韩元", "₽": "卢布", "₹": "卢比", **_CURRENCY_CODES}


def _amount(number: str) -> str:
    """An amount of money: 2 is 两 (两元, 两万美元); zeros after the point are not said
    (36.00 is 三十六, 1999.10 is 一千九百九十九点一)."""
    if "." in number:
        number = number.rstrip("0").rstrip(".")
    return "两" if number == "2" else read_number(number)


def _money(m: re.Match[str]) -> str:
    name = _CURRENCIES[m.group("cur")]
    string, end = _after(m)
    text = _amount(m.group("a"))
    if m.group("b"):
        text += "至" + _amount(m.group("b"))
    text += (m.group("mag") or "").strip()
    return text if string.startswith(name, end) else text + name


# Before or after these, a W after digits is 万 (月薪2W, 10W+阅读), not watts (100W快充).
_WAN_BEFORE = re.compile(
    "薪|收入|工资|月入|年入|粉丝|阅读|播放|浏览|点赞|评论|转发|销量|存款|估值|预算")
_WAN_AFTER = re.compile(r"\+|\s?(?:元|块|人|粉|次|字|阅读|播放|浏览|点赞|左右|以上|多)")
# Words of power: with them a w or W after digits is watts (功率5w, 100W快充, 10w的灯).
_WATT_NEAR = re.compile("功率|充电|快充|闪充|电源|灯|瓦|电机|电池")


def _wan(m: re.Match[str]) -> str:
    """w after digits is 万 (3w, 10w+) unless power is spoken of; W is 万 only with words that
    count (see above)."""
    string, start, end = m.string, m.start(), m.end()
    if _WATT_NEAR.search(string, max(0, start - 12), min(len(string), end + 4)):
        return m.group()
    counted = (m.group() == "w" or _WAN_AFTER.match(string, end)
               or _WAN_BEFORE.search(string, max(0, start - 12), start))
    return "万" if counted else m.group()


# A range: optional minus (not after a digit or letter: 5-3 is not 5 and -3), a number, an
# optional percent sign, a separator, the second number with its own optional minus and percent.
_RANGE = re.compile(
    rf"(?:(?<![0-9A-Za-z.])(?P<neg>[-−]))?(?<![0-9.])(?P<a>{_NUM})(?P<ap>\s?[%‰])?"
    rf"\s?(?P<sep>{_RANGE_SEP})\s?(?P<bneg>[-−])?(?P<b>{_NUM})(?P<bp>\s?[%‰])?"
    r"(?![0-9]|\.[0-9])")

_UNIT_RULES: list[Rule] = [
    # 万 written as w or W after digits (3w, 10w+, 月薪2W): before the unit rule reads W as watts.
    Rule("wan", re.compile(r"(?<=[0-9])[wW](?![A-Za-z0-9])"), _wan, BOTH, ZH,
         needs=re.compile(r"[0-9][wW]")),
    # A Latin unit is a unit only right after a number (5km, 5 km, 1.5万km); a letter before the
    # number (iPhone 5s, H7N9) or after the unit (5min is not 5 m + in) means it is not.
    Rule("unit", re.compile(
        rf"(?<![A-Za-z0-9.])(?<![A-Za-z] )(?P<n>{_NUM}(?:万|亿)?)\s?(?P<u>{_UNIT_ALT})"
        r"(?![A-Za-z0-9])"), _unit, FULL, ZH, needs=DIGITS),
    # Symbol units are units wherever they stand (气温℃), unlike the Latin letters.
    Rule("unit-symbol", re.compile(rf"°[CF]|[{_UNIT_SYMBOLS}]"), _unit_symbol, FULL, ZH),
    # Currency signs before the number are read after it (¥100 -> 一百元); an optional range and
    # 万/亿 (¥1-2万) belong to the amount. ¥100元 does not get a second 元.
    Rule("money", re.compile(
        rf"(?P<cur>{_alternation(_CURRENCIES)})\s?(?P<a>{_NUM})"
        rf"(?:\s?{_RANGE_SEP}\s?(?:{_alternation(_CURRENCIES)})?(?P<b>{_NUM}))?"
        r"(?P<mag>\s?(?:万亿|亿|万|千))?"), _money, FULL, ZH, needs=DIGITS),
    # An amount before a currency word keeps no zeros after its point: 36.00元, 1999.10元.
    Rule("amount-zeros", re.compile(
        r"(?<![0-9.])(?P<n>[0-9][0-9,]*)(?P<f>\.[0-9]*?)0+(?![0-9])"
        rf"(?=\s?(?:万|亿)?\s?(?:{_alternation(_MONEY_WORDS)}))"),
        lambda m: m.group("n") + m.group("f").rstrip("."),
        BOTH, ZH, needs=re.compile(r"\.[0-9]*0(?![0-9])")),
    Rule("range", _RANGE, _range, FULL, ZH, needs=DIGITS),
    Rule("range-light", _RANGE, _range_light, LIGHT, ZH, needs=DIGITS),
    # A range whose first end carries its unit (5km-10km, 3天-5天): after the unit rule, the
    # hyphen between 公里 and 10 is 至, not a minus.
    Rule("range-after-unit", re.compile(
        rf"(?<=[0-9])(?P<u>{_alternation([*_MEASURES, *_UNITS.values()])})"
        r"\s?(?:——|[-~〜—–])\s?(?=[0-9])"), lambda m: m.group("u") + "至", FULL, ZH,
        needs="-~〜—–"),
    # A range whose first end is a date, year or time word: 5日-7日, 9月-10月, 2024年-2025年,
    # 上午九点整—下午五点整. Without it the hyphen would make the second number negative.
    Rule("range-after-date", re.compile(
        r"(?<=[年月日号整分秒])\s?(?:——|[-~〜—–])\s?"
        r"(?=[0-9〇零一二三四五六七八九十两]|上午|下午|中午|晚上|凌晨|早上)"),
         _const("至"), BOTH, ZH, needs="-~〜—–"),
]

# ===================================================================== numbers


def _year(m: re.Match[str]) -> str:
    return read_year(m.group("y"))


# A number of years, not a year: 历时1600年, 长达1000年, 近2000年来.
_DURATION_BEFORE = re.compile(
    r"(?:历时|长达|达|近|约|逾|超|超过|经过|历经|已有|拥有|用了|花了|持续|延续|跨越|距今|相隔|阔别|将近"
    r"|整整|足足|不到)\s?$")
# After a round number of years, these make it a span (1000年前, 2000年之久, 1500年的历史).
_DURATION_AFTER = re.compile(r"\s?年(?:前|之久|的?历史)")


def _year_or_span(m: re.Match[str]) -> str:
    """A four-digit number before 年 is a year (1600年, 1949年), unless it counts years (see the
    two patterns above); a span is left for the number rule."""
    year, (string, end) = m.group("y"), _after(m)
    span = (_DURATION_BEFORE.search(string, max(0, m.start() - 4), m.start())
            or (year.endswith("00") and _DURATION_AFTER.match(string, end)))
    return m.group() if span else read_year(year)


def _era(m: re.Match[str]) -> str:
    """1823年3月bc, 2934ad -> 公元前1823年3月, 公元2934年 (the era-year rule reads the year)."""
    date = m.group("date")
    era = "公元前" if m.group("era")[0] in "bB" else "公元"
    return era + date + ("" if "年" in date else "年")


# Fractions written as one character: ½ is 二分之一 (a whole number before it: 1½ is 一又二分之一).
_VULGAR = {"½": "二分之一", "⅓": "三分之一", "⅔": "三分之二", "¼": "四分之一", "¾": "四分之三",
           "⅕": "五分之一", "⅖": "五分之二", "⅗": "五分之三", "⅘": "五分之四", "⅙": "六分之一",
           "⅚": "六分之五", "⅛": "八分之一", "⅜": "八分之三", "⅝": "八分之五", "⅞": "八分之七"}


def _vulgar(m: re.Match[str]) -> str:
    whole = m.group("n")
    return (whole + "又" if whole else "") + _VULGAR[m.group("f")]


def _fraction(m: re.Match[str]) -> str:
    sign = "负" if m.group("neg") else ""
    return sign + read_integer(int(m.group("b"))) + "分之" + read_integer(int(m.group("a")))


def _counts(m: re.Match[str]) -> bool:
    """False after 第 or 、 (第2名 and 第1、2名 are ordinals) and after a Latin letter (CO2排放,
    a chemical formula; A2排, a model number): such a 2 is read 二, never 两."""
    before = _before(m)
    return before not in ("第", "、") and not ("A" <= before <= "Z" or "a" <= before <= "z")


def _number(m: re.Match[str]) -> str:
    number, fraction = m.group("n"), m.group("f")
    string, end = _after(m)
    if (number == "2" and not fraction and _counts(m) and _LIANG_NEXT.match(string, end)
            and not string.startswith("分之", end)):  # 2分之1 is 二分之一
        text = "两"
    else:
        text = read_number(number + (fraction or ""))
    if m.group("neg"):
        text = ("零下" if _CELSIUS_NEXT.match(string, end) else "负") + text
    return text




def _spell(m: re.Match[str]) -> str:
    word = m.group()
    return word if _sayable(word) else " ".join(word)




_NUMBER_RULES: list[Rule] = [
    # An era after a date (2934ad, 1234b.c., 1823年3月bc) is said before it: 公元, 公元前.
    Rule("era", re.compile(
        r"(?<![0-9.])(?P<date>[0-9]{1,4}(?:年(?:[0-9]{1,2}月(?:[0-9]{1,2}[日号])?)?)?)\s?"
        r"(?P<era>[aA]\.?[dD]\.?|[bB]\.?[cC]\.?)(?![A-Za-z])"), _era, FULL, ZH,
        needs=re.compile(r"[0-9年月日号]\s?[aAbB]\.?[dDcC]")),
    # After 公元, 公元前, 纪元 any number before 年 is a year, said digit by digit (公元前二〇二年).
    Rule("era-year", re.compile(
        r"(?P<era>(?:公元|纪元|西元)前?)\s?(?P<y>[0-9]{1,4})(?=\s?年)"),
        lambda m: m.group("era") + read_year(m.group("y")), FULL, ZH, needs="元"),
    # A two-digit year: 05年, 00年 (a leading zero), or any two digits before 年 and a month
    # (86年8月18日 is 八六年). 50年 alone is fifty years.
    Rule("year-2digit", re.compile(
        r"(?<![0-9.])(?:0[0-9](?=\s?年)|[0-9]{2}(?=年[0-9]{1,2}月))"),
        lambda m: read_year(m.group()), FULL, ZH, needs="年"),
    # ~ before a number that ends no range is "about" (~5%, 误差~3mm).
    Rule("approx", re.compile(r"(?<![0-9%‰A-Za-z])[~〜]\s?(?=[-−]?(?:[¥￥$€£]\s?)?[0-9])"),
         _const("约"),
         BOTH, ZH, needs="~〜"),
    # ± and +- before a number are 正负 (±5, 误差+-0.5), before the number rule reads the minus.
    Rule("plus-minus", re.compile(r"±|\+/-|\+-(?=[0-9零一二三四五六七八九十])"), _const("正负"),
         BOTH, ZH, needs="±+"),
    # Percent, permille, per ten thousand: the sign is read first (百分之), so it has to move.
    # A minus in front is a sign only when no digit or letter comes before it.
    Rule("percent", re.compile(
        rf"(?:(?<![0-9A-Za-z.])(?P<neg>[-−]))?(?<![0-9.])(?P<n>{_NUM})\s?(?P<s>[%‰‱])"),
        _percent, FULL, ZH, needs="%‰‱"),
    # A 4-digit year (1000-2099) before 年 (or a word that counts in years: 届, 级, 款, 赛季), or
    # in a list of years before it (2025、2026年), is read digit by digit, unless it counts years
    # (历时1600年, 1000年前: see _year_or_span). 300年 is a duration and is read as a number.
    Rule("year", re.compile(
        r"(?<![0-9.])(?P<y>1[0-9]{3}|20[0-9]{2})"
        r"(?=(?:[、和及与或]\s?(?:1[0-9]{3}|20[0-9]{2}))*\s?(?:年|届|级|款|版|赛季|财年|学年))"),
        _year_or_span, FULL, ZH, needs=DIGITS),
    # A bare 19xx/20xx right before a Han word is a year (2025世界智能产业博览会), unless the word
    # is a measure word, unit or quantity word (5000家 is not a year, nor is 2000多).
    Rule("year-bare", re.compile(
        rf"(?<![0-9.])(?<![0-9],)(?P<y>(?:19|20)[0-9]{{2}})(?=[{_HAN}])"
        rf"(?!{_alternation(_NOT_YEAR)})"), _year, FULL, ZH, needs=DIGITS),
    # a/b between plain integers is a fraction (dates with / were read by the date rules).
    Rule("fraction", re.compile(
        r"(?:(?<![0-9A-Za-z.])(?P<neg>[-−]))?"
        r"(?<![0-9./])(?P<a>[0-9]{1,6})/(?P<b>[1-9][0-9]{0,5})(?![0-9]|/[0-9]|\.[0-9])"),
        _fraction, FULL, ZH, needs="/"),
    # Minutes and seconds marks (3′45″, 东经106°30′): 分 and 秒; hundredths after seconds are
    # said digit by digit (9秒83, 9″83: 九秒八三).
    Rule("prime", re.compile(r"(?<=[0-9])[′″]"), lambda m: "分" if m.group() == "′" else "秒",
         FULL, ZH, needs="′″"),
    Rule("split-second", re.compile(r"(?<=[0-9]秒)[0-9]{1,2}(?![0-9]|\s?[分秒个])"),
         lambda m: read_digits(m.group()), FULL, ZH, needs="秒"),
    # No.1, NO.3: a rank, said 第一, 第三.
    Rule("rank", re.compile(r"(?<![A-Za-z])[Nn][Oo]\.\s?(?=[0-9])"), _const("第"), FULL, ZH,
         needs=re.compile(r"[Nn][Oo]\.")),
    # × (3×4米, 3cm×4cm, 1920×1080) and * between numbers (7*24小时) are 乘; ÷ is 除以.
    Rule("times", re.compile(r"\s?[×÷]\s?|(?<=[0-9)）])\s?\*\s?(?=[0-9(（])"),
         lambda m: "除以" if "÷" in m.group() else "乘", FULL, ZH, needs="×÷*"),
    Rule("vulgar-fraction", re.compile(rf"(?P<n>[0-9]+)?(?P<f>[{''.join(_VULGAR)}])"), _vulgar,
         FULL, ZH, needs="".join(_VULGAR)),
    # A minus before a fraction or percentage in words (-百分之1) is 负.
    Rule("minus-word", re.compile(r"(?<![0-9A-Za-z.])[-−](?=[0-9]*\s?[百千万]?分之)"),
         _const("负"), FULL, ZH, needs="分"),
    # Every other number: 1,000 or 100 000 grouping, decimals, a sign; 2 before a measure word
    # is 两 except after 第 (第二个); a minus before a temperature is 零下.
    Rule("number", re.compile(
        r"(?:(?<![0-9A-Za-z.])(?P<neg>[-−]))?(?<![0-9.])"
        r"(?P<n>[0-9]{1,3}(?:,[0-9]{3})+(?![0-9])|[0-9]{1,3}(?: [0-9]{3})+(?![0-9])|[0-9]+)"
        r"(?P<f>\.[0-9]+)?"), _number, FULL, ZH, needs=DIGITS),
    # Anything still in digits (the 15 of 3.14.15) is read digit by digit, so no digit reaches
    # the offline voice.
    Rule("leftover-digits", re.compile(r"[0-9]+"), lambda m: read_digits(m.group()), FULL, ZH,
         needs=DIGITS),
    # "per" between a Chinese unit and another unit: 元/吨, 元/m², 人/天, 10MB/s, 5.6L/100km.
    # After the number and unit rules, so the 元 written by the money rule (¥5/kg) and the 字节,
    # 升, 公里 of the unit rule are there too.
    Rule("unit-per", re.compile(
        rf"(?:(?<=[元米克吨斤次人个件台度升瓦伏秒])|(?<=字节|小时|公里))/"
        rf"(?:(?P<u>{_UNIT_ALT})(?![A-Za-z0-9])"
        r"|(?=[天月年人次小吨千公斤平立米件个台户亩度秒分周一二三四五六七八九十百]))"), _unit_per,
        FULL, ZH, needs="/"),
    # + after a word or between numbers is 加 (人工智能+, 1+1), = is 等于.
    Rule("plus", re.compile(r"\+"), _const("加"), FULL, ZH, needs="+"),
    Rule("equals", re.compile(r"="), _const("等于"), FULL, ZH, needs="="),
    # Capitals standing alone (no letter on either side) are spelled (A I, G D P, C S I) unless
    # they read as a word (GOOGLE, CHROME, ZIP; see _sayable). Words in lower or mixed case
    # (iPhone, Wi-Fi) are left to the voice.
    Rule("acronym", re.compile(r"(?<![A-Za-z])[A-Z]{2,}(?![A-Za-z])"), _spell, FULL, ZH,
         needs=CAPITALS),
]


RULES: tuple[Rule, ...] = tuple(
    _SAFETY + _ADDRESSES + _LETTERS + _PHONES + _DATES + _UNIT_RULES + _NUMBER_RULES
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
        if rule.probe is None or rule.probe(text) is not None:
            text = rule.pattern.sub(rule.replace, text)
    return _SPACES.sub(" ", _UNSAFE.sub(" ", text)).strip()

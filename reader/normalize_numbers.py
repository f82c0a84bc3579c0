"""Numbers in Chinese words: the readings ``reader.normalize`` builds its rules on.

``read_integer`` says a quantity (2000 -> 两千, 105 -> 一百零五), ``read_decimal`` and
``read_number`` a number as written (1,234.5), ``read_digits`` a code digit by digit (with 幺 for
1 if asked), ``read_year`` a year digit by digit with 〇. Pure functions of their argument, no
context: which one a number in a text gets is decided by the rules in ``reader.normalize``.
"""

from __future__ import annotations

__all__ = ["read_decimal", "read_digits", "read_integer", "read_number", "read_year"]

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

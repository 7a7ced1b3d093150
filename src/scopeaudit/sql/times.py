"""``timeparse.parse_time`` in SQL: a time written as text -> seconds since the epoch, NULL
where the reader refuses it; and the time column handed on (``out_time_expr``).

Compiled from the reader's own patterns (usage/timeparse.py: ``FAST_ISO_TEXT``,
``EPOCH_TEXT``, ``CLF_TEXT``, ``GO_TEXT``, ``ISO_TEXT``), tried in the reader's order: the
fast UTC form (on the text as logged), epoch digits (stripped), then, without any brackets,
nginx's ``$time_local``, Go's ``time.String()`` and ISO 8601. The patterns say exactly what
is valid, the calendar included, so every number the SQL takes from a text is one a pattern
has accepted: a cast here never meets a value it could fail on, in any dialect (no TRY_CAST
needed, which PostgreSQL lacks and Spark's ANSI mode would need), and one bad value drops
its row, never the query.

Three steps, each a query stage of its own (so that an engine computes each once):
``time_kind_expr`` names the form (``f``ast, ``e``poch, e``x``ponent, ``c``lf, ``g``o,
``i``so), ``time_fields`` takes the form's numbers out (a CASE picks texts, one cast reads
the picked one), and ``time_seconds_expr`` computes the time as the reader does:

* the fast form as the minute's epoch plus ``float("SS.fffffffff")`` (iso_utc_fast);
* other ISO times (and Go's, as the ISO time of its parts) as the exact decimal of their
  microseconds (fractions cut to six digits, as ``datetime.fromisoformat``), read as a
  double: the same correctly rounded value as ``timedelta.total_seconds()``; nginx times in
  whole seconds, plus the double of their fraction;
* epoch digits as the double of the text in the unit its magnitude says (``epoch_unit``'s
  thresholds), the text cut to 300 decimals first (a longer one underflows PostgreSQL's
  float8 input: a time under 1e-300 s is 0 here, a denormal in Python; the same instant).

Then ``in_range``: the reader's range, from 1970 to the end of 9999 (``END_EPOCH``).
"""

from __future__ import annotations

from sqlglot import exp

from scopeaudit.sql.regex import Flavour
from scopeaudit.sql.routing import case, concat, lit, regex_like, regex_replace
from scopeaudit.usage.semantics import DAY_SECONDS
from scopeaudit.usage.timeparse import (
    CLF_MONTHS,
    CLF_TEXT,
    END_EPOCH,
    EPOCH_TEXT,
    FAST_ISO_TEXT,
    GO_TEXT,
    ISO_TEXT,
    MS_THRESHOLD,
    NS_THRESHOLD,
    US_THRESHOLD,
)

# A number column's text in exponent form, as Spark and Trino write a DOUBLE
# (``1.79154E9``) and PostgreSQL a large one (``1e+15``): taken with ``--ts-type epoch``,
# and only where it is the very text the engine writes for that number (a text column's
# ``1e9`` is not: the reader refuses such text, and takes the number). Exponents of two
# digits at most: a time is under 1e99 s, and a cast of 1e-400 fails in PostgreSQL (a
# number column's time under 1e-99 s, which the reader takes as 1970-01-01, is left out).
NUMBER_EXPONENT_TEXT = r"[0-9](?:\.[0-9]+)?[Ee][+-]?[0-9]{1,2}"
# ISO_TEXT's parts, for a text ISO_TEXT has accepted (so the separators may be optional
# here: the strict pattern has held them consistent): year, month, day, hour, minute,
# second, fraction, zone
_ISO_PARTS = (r"\A([0-9]{4})-?([0-9]{2})-?([0-9]{2})(?:[Tt ]([0-9]{2})(?::?([0-9]{2})"
              r"(?::?([0-9]{2})(?:[.,]([0-9]+))?)?)?([Zz]|[+-][0-9]{2}(?::?[0-9]{2})?)?)?")
_FRACTION_DIGITS = 300
_EPOCH_DIGITS = len(str(int(NS_THRESHOLD * 1000)))  # 21: nanoseconds of the year 9999
FIELDS = ("t_year", "t_month", "t_day", "t_hour", "t_minute", "t_second", "t_fraction",
          "t_offset", "t_number")


def _n(value: int) -> exp.Expr:
    return exp.Literal.number(value)


def _sub(text: exp.Expr, start: int, length: int | None = None) -> exp.Expr:
    """SUBSTRING, 1-based."""
    return exp.Substring(this=text, start=_n(start),
                         length=None if length is None else _n(length))


def _int(text: exp.Expr) -> exp.Expr:
    """Digits (or '' or NULL: 0) as a BIGINT. Only ever given digits a pattern accepted."""
    return exp.func("COALESCE", exp.Cast(this=exp.Nullif(this=text, expression=lit("")),
                                         to=exp.DataType.build("BIGINT")), _n(0))


def _double(text: exp.Expr) -> exp.Expr:
    return exp.Cast(this=text, to=exp.DataType.build("DOUBLE"))


def _mul(a: exp.Expr, b: int) -> exp.Expr:
    return exp.Mul(this=exp.Paren(this=a), expression=_n(b))


def _add(*terms: exp.Expr) -> exp.Expr:
    out = terms[0]
    for term in terms[1:]:
        out = exp.Add(this=out, expression=term)
    return exp.Paren(this=out)


def days_from_civil(year: exp.Expr, month: exp.Expr, day: exp.Expr) -> exp.Expr:
    """Days since 1970-01-01 of a valid proleptic Gregorian date (years from 1): integer
    arithmetic on non-negative numbers only, so truncating and flooring division agree
    (H. Hinnant's ``days_from_civil``). Give it columns: it names each more than once."""
    def idiv(a: exp.Expr, b: int) -> exp.Expr:
        return exp.IntDiv(this=a, expression=_n(b))

    y = exp.Paren(this=exp.Sub(this=year, expression=case(
        [(exp.LTE(this=month, expression=_n(2)), _n(1))], _n(0))))
    era = idiv(y, 400)
    yoe = exp.Paren(this=exp.Sub(this=y, expression=_mul(era, 400)))
    shifted = exp.Mod(this=exp.Paren(this=exp.Add(this=month, expression=_n(9))),
                      expression=_n(12))  # March is 0
    doy = _add(idiv(_add(_mul(shifted, 153), _n(2)), 5), day, _n(-1))
    doe = _add(_mul(yoe, 365), idiv(yoe, 4), exp.Neg(this=idiv(yoe, 100)), doy)
    return _add(_mul(era, 146097), doe, _n(-719468))


def unbracketed_expr(stripped: exp.Expr, dialect: str) -> exp.Expr:
    """``text.strip("[]")`` when the text starts with ``[`` (nginx's brackets)."""
    end = Flavour(dialect).end
    return case([(exp.EQ(this=_sub(stripped, 1, 1), expression=lit("[")),
                  regex_replace(stripped, rf"\A[\[\]]+|[\[\]]+{end}", "", dialect))], stripped)


def time_kind_expr(raw: exp.Expr, stripped: exp.Expr, unbracketed: exp.Expr, dialect: str,
                   *, numbers: bool = False) -> exp.Expr:
    """Which of the reader's forms a time's text has, in its order: ``f`` (the fast form,
    on ``raw``, the text as logged), ``e`` (epoch digits, on ``stripped``), ``c`` (nginx's
    time), ``g`` (Go's) or ``i`` (ISO), the last three on ``unbracketed``; NULL for none.
    ``numbers``: also ``x``, a number column's text in exponent form (``--ts-type
    epoch``)."""
    end = Flavour(dialect).end
    # EPOCH_TEXT whose value can be in range: 22 or more integer digits are 1e21 or more,
    # past the end of 9999 even as nanoseconds, as the reader finds
    short_epoch = rf"\A0*[0-9]{{1,{_EPOCH_DIGITS}}}(?:\.[0-9]*)?{end}"
    whens = [(regex_like(raw, rf"\A{FAST_ISO_TEXT}{end}"), lit("f")),
             (exp.and_(regex_like(stripped, rf"\A(?:{EPOCH_TEXT}){end}"),
                       regex_like(stripped, short_epoch)), lit("e"))]
    if numbers:
        exponent = regex_like(raw, rf"\A{NUMBER_EXPONENT_TEXT}{end}")
        written = exp.Cast(this=_double(case([(exponent, raw)])),
                           to=exp.DataType.build("TEXT"))
        whens.append((exp.and_(exponent, exp.EQ(this=written, expression=raw)), lit("x")))
    whens += [(regex_like(unbracketed, rf"\A(?:{CLF_TEXT}){end}"), lit("c")),
              (regex_like(unbracketed, rf"\A(?:{GO_TEXT}){end}"), lit("g")),
              (regex_like(unbracketed, rf"\A(?:{ISO_TEXT}){end}"), lit("i"))]
    return case(whens)


def time_fields(kind: exp.Expr, raw: exp.Expr, stripped: exp.Expr, unbracketed: exp.Expr,
                dialect: str) -> dict[str, exp.Expr]:
    """The numbers of a time of form ``kind`` (FIELDS): year, month, day, hour, minute and
    second as BIGINTs; ``t_fraction`` the seconds' text of the fast form (``SS.fff``), an ISO
    or Go time's microseconds (six digits), or nginx's fraction (``.512``, or ``.0``);
    ``t_offset`` the zone in seconds east of UTC; ``t_number`` the double of epoch text
    (before its unit is applied)."""
    fl = Flavour(dialect)
    end = fl.end

    def pick(**texts: exp.Expr) -> exp.Expr:
        """The text the row's form puts there (NULL for other forms); ``i`` stands for Go's
        form too (read as the ISO time of its parts)."""
        whens = [(exp.EQ(this=kind, expression=lit(k)), text) for k, text in texts.items()]
        if "i" in texts:
            whens.append((exp.EQ(this=kind, expression=lit("g")), texts["i"]))
        return case(whens)

    # Go's time as the ISO time of its date, clock and offset, as the reader rewrites it
    iso_text = case([(exp.EQ(this=kind, expression=lit("g")), regex_replace(
        unbracketed, rf"\A(?:{GO_TEXT}){end}", f"{fl.group(1)}T{fl.group(2)}{fl.group(3)}",
        dialect))], unbracketed)

    def iso(group: int) -> exp.Expr:
        return regex_replace(iso_text, rf"{_ISO_PARTS}{end}", fl.group(group), dialect)

    def clf(group: int) -> exp.Expr:
        return regex_replace(unbracketed, rf"\A(?:{CLF_TEXT}){end}", fl.group(group), dialect)

    clf_month = case([(exp.EQ(this=_sub(unbracketed, 4, 3), expression=lit(name)),
                       lit(f"{number:02d}")) for number, name in enumerate(CLF_MONTHS, 1)])
    # a zone: nginx's ±hhmm (CLF_TEXT's groups 6 and 7), ISO's Z, z, ±HH, ±HHMM or ±HH:MM
    zone = exp.Replace(this=pick(c=concat(clf(6), clf(7)), i=iso(8)), expression=lit(":"),
                       replacement=lit(""))
    magnitude = _add(_mul(_int(_sub(zone, 2, 2)), 3600), _mul(_int(_sub(zone, 4, 2)), 60))
    epoch_text = regex_replace(stripped, r"\A0+([0-9])", fl.group(1), dialect)
    return {
        "t_year": _int(pick(f=_sub(raw, 1, 4), c=_sub(unbracketed, 8, 4), i=iso(1))),
        "t_month": _int(pick(f=_sub(raw, 6, 2), c=clf_month, i=iso(2))),
        "t_day": _int(pick(f=_sub(raw, 9, 2), c=_sub(unbracketed, 1, 2), i=iso(3))),
        "t_hour": _int(pick(f=_sub(raw, 12, 2), c=_sub(unbracketed, 13, 2), i=iso(4))),
        "t_minute": _int(pick(f=_sub(raw, 15, 2), c=_sub(unbracketed, 16, 2), i=iso(5))),
        "t_second": _int(pick(c=_sub(unbracketed, 19, 2), i=iso(6))),
        "t_fraction": pick(
            f=exp.Substring(this=raw, start=_n(18), length=exp.Sub(
                this=exp.Length(this=raw), expression=_n(18))),
            c=exp.func("COALESCE", exp.Nullif(this=clf(5), expression=lit("")), lit("0")),
            i=_sub(concat(iso(7), lit("000000")), 1, 6)),
        "t_offset": case([(exp.EQ(this=_sub(zone, 1, 1), expression=lit("-")),
                           exp.Neg(this=magnitude))], magnitude),
        # leading zeros off, then at most 21 integer digits (the kind's) and 300 decimals
        "t_number": _double(pick(e=_sub(epoch_text, 1, _EPOCH_DIGITS + 1 + _FRACTION_DIGITS),
                                 x=raw)),
    }


def time_seconds_expr(kind: exp.Expr, fields: dict[str, exp.Expr]) -> exp.Expr:
    """The time's seconds from ``time_fields`` (columns), before the range check."""
    f = fields
    days = days_from_civil(f["t_year"], f["t_month"], f["t_day"])
    clock = _add(_mul(days, DAY_SECONDS), _mul(f["t_hour"], 3600), _mul(f["t_minute"], 60),
                 f["t_second"], exp.Neg(this=f["t_offset"]))
    number = f["t_number"]

    def of(*kinds: str) -> exp.Expr:
        return exp.In(this=kind, expressions=[lit(k) for k in kinds])

    def per_unit(unit: int) -> exp.Expr:
        return exp.Div(this=number, expression=_n(unit))

    whole = exp.Cast(this=exp.Cast(this=clock, to=exp.DataType.build("BIGINT")),
                     to=exp.DataType.build("TEXT"))
    return case([
        # iso_utc_fast: the minute's epoch plus float("SS.fff")
        (of("f"), exp.Add(this=_double(clock), expression=_double(case(
            [(of("f"), f["t_fraction"])])))),
        # epoch_unit: seconds, then milliseconds, microseconds, nanoseconds by magnitude
        (of("e", "x"), case([
            (exp.LT(this=number, expression=_n(MS_THRESHOLD)), number),
            (exp.LT(this=number, expression=exp.Literal.number(US_THRESHOLD)), per_unit(1000)),
            (exp.LT(this=number, expression=exp.Literal.number(NS_THRESHOLD)),
             per_unit(1_000_000))], per_unit(1_000_000_000))),
        # nginx's time: whole seconds, plus its fraction as a double
        (of("c"), exp.Add(this=_double(clock), expression=_double(case(
            [(of("c"), f["t_fraction"])])))),
        # whole seconds and microseconds as the exact decimal (when negative, wrong, and
        # out of range either way)
        (of("i", "g"), _double(case([(of("i", "g"), concat(whole, lit("."),
                                                            f["t_fraction"]))]))),
    ])


def in_range(seconds: exp.Expr) -> exp.Expr:
    """Whether the reader takes such a time: from 1970 to the end of 9999."""
    return exp.and_(exp.GTE(this=seconds, expression=_n(0)),
                    exp.LT(this=seconds, expression=exp.Literal.number(END_EPOCH)))


def day_expr(seconds: exp.Expr) -> exp.Expr:
    """``semantics.utc_day``: Python's float floor division by DAY_SECONDS, exactly (the quotient
    rounded up across a day boundary is taken back)."""
    floor = exp.Cast(this=exp.Floor(this=exp.Div(this=seconds, expression=_n(DAY_SECONDS))),
                     to=exp.DataType.build("BIGINT"))
    return case([(exp.GT(this=_mul(floor, DAY_SECONDS), expression=seconds),
                  exp.Sub(this=floor, expression=_n(1)))], floor)


def out_time_expr(seconds: exp.Expr) -> exp.Expr:
    """The ``ts`` a result row carries for a time: seconds, which the reader reads back as
    seconds below MS_THRESHOLD, and milliseconds from there on (year 5138 and later), which
    it reads back as the same second."""
    return case([(exp.GTE(this=seconds, expression=_n(MS_THRESHOLD)),
                  exp.Mul(this=seconds, expression=_n(1000)))], seconds)

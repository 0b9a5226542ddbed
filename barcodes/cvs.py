"""Convenience-store payment barcode data (GS1-128, AI 91, 44 digits).

The Japanese standard for bill payment at convenience stores (GS1 Japan, 「GS1-128による標準料金代理収納
ガイドライン」) puts 44 digits in one GS1-128 symbol. Every chain's register and every bill-payment app reads
the same digits:

====  ===  =============================================================
Pos   Len  Field
====  ===  =============================================================
1     2    AI, always ``91``
3     6    issuer prefix (国コード+企業コード), begins with ``9`` or ``5``
9     5    consignor code (委託者コード)
14    16   payment number (納付番号): fiscal year 2, claim serial 9, instalment 3, ``00``
30    1    reissue count (再発行区分), ``0`` … ``9``
31    6    barcode expiry YYMMDD, ``999999`` for none
37    1    stamp flag (印紙フラグ)
38    6    amount in yen
44    1    check digit, modulus 10 weights 3/1 over the 43 digits before it, AI included
====  ===  =============================================================

The table is :data:`LAYOUT` (1-based positions here, as in the spec):

>>> for part in LAYOUT:
...     print(part.start + 1, part.length, part.name)
1 2 ai
3 6 issuer_prefix
9 5 consignor_code
14 16 payment_number
30 1 reissue_count
31 6 expiry
37 1 stamp_flag
38 6 amount
44 1 check_digit

More information:

* ../shared/spec/barcode.md (the contract this module implements)
* https://itpfdoc.hitachi.co.jp/manuals/3021/3021701210/EUDS0050.HTM

>>> validate('91912345012345678901234567890101033101230003')
'91912345012345678901234567890101033101230003'
>>> validate('9191234501234567890123456789010103310123000 4')
Traceback (most recent call last):
    ...
barcodes.exceptions.InvalidChecksum: barcode check digit does not match
>>> print(format('91912345001232600000123400300026013100100001'))
(91)912345-00123-2600000123400300
0-260131-0-010000-1
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from dataclasses import field

from barcodes.exceptions import InvalidChecksum
from barcodes.exceptions import InvalidComponent
from barcodes.exceptions import InvalidFormat
from barcodes.exceptions import InvalidLength

LENGTH = 44
AI = "91"
NO_EXPIRY = "999999"
MAX_AMOUNT = 999_999
"""The largest amount six digits can hold; the office's cap (300,000 by default) is checked separately."""

_SEPARATORS = re.compile(r"[\s\-()]")


@dataclass(frozen=True, slots=True)
class Part:
    """One field of the 44 digits: where it starts (0-based) and how many digits it has."""

    name: str
    start: int
    length: int
    span: slice = field(init=False, repr=False, compare=False)
    """The field as a slice of the digits (``str`` or ``bytes``)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "span", slice(self.start, self.start + self.length))

    def sql(self, column: str, before: int = 0) -> str:
        """SQL reading the field from a text ``column`` holding the 44 digits after ``before`` characters.

        >>> AMOUNT.sql("kb", before=2)
        'substr(kb, 40, 6)'
        """
        return f"substr({column}, {self.start + before + 1}, {self.length})"


#: The layout (spec/barcode.md), declared once: parsers, writers, the adapters' fast paths and the ingest
#: SQL read their positions from here. The parts tile the 44 digits in order.
LAYOUT = (
    AI_PART := Part("ai", 0, 2),
    ISSUER := Part("issuer_prefix", 2, 6),
    CONSIGNOR := Part("consignor_code", 8, 5),
    PAYMENT_NUMBER := Part("payment_number", 13, 16),
    REISSUE := Part("reissue_count", 29, 1),
    EXPIRY := Part("expiry", 30, 6),
    STAMP := Part("stamp_flag", 36, 1),
    AMOUNT := Part("amount", 37, 6),
    CHECK_DIGIT := Part("check_digit", 43, 1),
)
assert [p.start for p in LAYOUT] == [0, *(p.start + p.length for p in LAYOUT[:-1])]
assert LAYOUT[-1].start + LAYOUT[-1].length == LENGTH


@dataclass(frozen=True, slots=True)
class CvsBarcode:
    """The fields of a 44-digit payment barcode.

    ``expiry`` is ``None`` when the barcode says ``999999`` (no limit).
    """

    issuer_prefix: str
    consignor_code: str
    payment_number: str
    reissue_count: int
    expiry: datetime.date | None
    stamp_flag: int
    amount: int

    @property
    def digits(self) -> str:
        """The 44 digits, check digit included."""
        return compose(
            issuer_prefix=self.issuer_prefix,
            consignor_code=self.consignor_code,
            payment_number=self.payment_number,
            reissue_count=self.reissue_count,
            expiry=self.expiry,
            amount=self.amount,
            stamp_flag=self.stamp_flag,
        )

    @property
    def agent_code(self) -> str:
        """Issuer-prefix digits 2–6 (barcode positions 4–8): the agent's code in settlement files."""
        return self.issuer_prefix[1:]


@dataclass(frozen=True, slots=True)
class PaymentNumber:
    """The 16-digit payment number this gateway issues: year, claim serial, instalment, ``00``."""

    fiscal_year: int
    """The last two digits of the fiscal year's starting calendar year (FY2026 → 26)."""
    claim_serial: int
    instalment: int

    def __str__(self) -> str:
        return compose_payment_number(self.fiscal_year, self.claim_serial, self.instalment)


def compact(number: str) -> str:
    """Remove the display-only separators (spaces, line breaks, ``-``, ``(``, ``)``).

    >>> compact('(91)912345-00123-2600000123400300 0-260131-0-010000-1')
    '91912345001232600000123400300026013100100001'
    """
    return _SEPARATORS.sub("", number)


def calc_check_digit(number: str) -> str:
    """Calculate the check digit over the 43 digits before it (modulus 10, weights 3 and 1 from the right).

    >>> calc_check_digit('9191234501234567890123456789010103310123000')
    '3'
    """
    # From the right: the last digit weighs 3, the one before it 1, and so on.
    total = 3 * sum(map(int, number[::-1][::2])) + sum(map(int, number[::-1][1::2]))
    return str((10 - total % 10) % 10)


def _expiry_date(yymmdd: str) -> datetime.date | None:
    if yymmdd == NO_EXPIRY:
        return None
    try:
        return datetime.date(2000 + int(yymmdd[:2]), int(yymmdd[2:4]), int(yymmdd[4:6]))
    except ValueError as ex:
        raise InvalidComponent(f"barcode expiry {yymmdd!r} is not a date", field="expiry") from ex


def validate(number: str) -> str:
    """Check what every barcode the gateway reads must satisfy; return the compact 44 digits.

    44 digits, AI ``91``, a valid check digit, an expiry that is a real date or ``999999``. Barcodes of
    another issuer or consignor are well formed and pass.

    >>> validate('91929023252070000010123499900299999900154357')
    '91929023252070000010123499900299999900154357'
    >>> validate('9192902325207000001012349990029999990015435')
    Traceback (most recent call last):
        ...
    barcodes.exceptions.InvalidLength: barcode has 43 digits, expected 44
    >>> validate('91912345001232600000123400300026023100100000')
    Traceback (most recent call last):
        ...
    barcodes.exceptions.InvalidComponent: barcode expiry '260231' is not a date
    """
    return _checked(number)[0]


def _checked(number: str) -> tuple[str, datetime.date | None]:
    """:func:`validate`, also returning the expiry it read."""
    if not (number.isascii() and number.isdigit()):  # the usual case needs no compacting
        number = compact(number)
    if not number.isascii() or not number.isdigit():
        raise InvalidFormat("barcode must consist of digits only", field="barcode")
    if len(number) != LENGTH:
        raise InvalidLength(f"barcode has {len(number)} digits, expected {LENGTH}", field="barcode")
    if number[AI_PART.span] != AI:
        ai = number[AI_PART.span]
        raise InvalidFormat(f"barcode application identifier is {ai!r}, expected '91'", field="ai")
    if calc_check_digit(number[: CHECK_DIGIT.start]) != number[CHECK_DIGIT.start]:
        raise InvalidChecksum(field="check_digit")
    return number, _expiry_date(number[EXPIRY.span])


def is_valid(number: str) -> bool:
    """Return whether ``number`` passes :func:`validate`.

    >>> is_valid('91929023252070000010123499900399999911066327')
    True
    >>> is_valid('91929023252070000010123499900399999911066328')
    False
    """
    try:
        return bool(validate(number))
    except (InvalidFormat, InvalidChecksum, InvalidComponent):
        return False


def parse(number: str) -> CvsBarcode:
    """Validate ``number`` and split it into its fields.

    >>> b = parse('91912345001232600000123400300026013100100001')
    >>> b.payment_number, b.reissue_count, b.expiry, b.amount
    ('2600000123400300', 0, datetime.date(2026, 1, 31), 10000)
    """
    number, expiry = _checked(number)
    return CvsBarcode(
        issuer_prefix=number[ISSUER.span],
        consignor_code=number[CONSIGNOR.span],
        payment_number=number[PAYMENT_NUMBER.span],
        reissue_count=int(number[REISSUE.span]),
        expiry=expiry,
        stamp_flag=int(number[STAMP.span]),
        amount=int(number[AMOUNT.span]),
    )


def _digits(value: str, length: int, field: str) -> str:
    if len(value) != length or not value.isascii() or not value.isdigit():
        raise InvalidComponent(f"{field} must be {length} digits, got {value!r}", field=field)
    return value


def compose(
    *,
    issuer_prefix: str,
    consignor_code: str,
    payment_number: str,
    reissue_count: int,
    expiry: datetime.date | None,
    amount: int,
    stamp_flag: int = 0,
) -> str:
    """Build the 44 digits from their fields, check digit included.

    >>> compose(issuer_prefix='912345', consignor_code='00123', payment_number='2600000123400300',
    ...         reissue_count=0, expiry=datetime.date(2026, 1, 31), amount=10000)
    '91912345001232600000123400300026013100100001'
    >>> compose(issuer_prefix='912345', consignor_code='00123', payment_number='2600000123400300',
    ...         reissue_count=10, expiry=None, amount=10000)
    Traceback (most recent call last):
        ...
    barcodes.exceptions.InvalidComponent: reissue count must be 0 to 9, got 10
    """
    _digits(issuer_prefix, ISSUER.length, "issuer_prefix")
    _digits(consignor_code, CONSIGNOR.length, "consignor_code")
    _digits(payment_number, PAYMENT_NUMBER.length, "payment_number")
    if not 0 <= reissue_count <= 9:
        raise InvalidComponent(f"reissue count must be 0 to 9, got {reissue_count}", field="reissue_count")
    if not 0 <= amount <= MAX_AMOUNT:
        raise InvalidComponent(f"amount must be 0 to {MAX_AMOUNT} yen, got {amount}", field="amount")
    if stamp_flag not in (0, 1):
        raise InvalidComponent(f"stamp flag must be 0 or 1, got {stamp_flag}", field="stamp_flag")
    if expiry is None:
        yymmdd = NO_EXPIRY
    elif 2000 <= expiry.year <= 2099:
        yymmdd = expiry.strftime("%y%m%d")
    else:
        raise InvalidComponent(f"expiry {expiry} is outside 2000-2099", field="expiry")
    body = (
        f"{AI}{issuer_prefix}{consignor_code}{payment_number}{reissue_count}{yymmdd}{stamp_flag}{amount:06d}"
    )
    return body + calc_check_digit(body)


def format(number: str) -> str:  # stdnum's name for this function, shadows the builtin on purpose
    """Return the two-line human-readable text printed under the bars.

    Line 1 is the AI, prefix, consignor and payment number; line 2 the reissue count, expiry, stamp flag,
    amount and check digit. The separators are display-only.
    """
    n = validate(number)
    ai, issuer, consignor, payment, reissue, expiry, stamp, amount, check = (n[p.span] for p in LAYOUT)
    return f"({ai}){issuer}-{consignor}-{payment}\n{reissue}-{expiry}-{stamp}-{amount}-{check}"


def compose_payment_number(fiscal_year: int, claim_serial: int, instalment: int) -> str:
    """Build the 16-digit payment number: fiscal year (2), claim serial (9), instalment (3), ``00``.

    ``fiscal_year`` may be the full year (2026) or its last two digits (26).

    >>> compose_payment_number(2026, 1234, 3)
    '2600000123400300'
    >>> compose_payment_number(2026, 1234, 1000)
    Traceback (most recent call last):
        ...
    barcodes.exceptions.InvalidComponent: instalment must be 1 to 999, got 1000
    """
    if not 1 <= instalment <= 999:
        raise InvalidComponent(f"instalment must be 1 to 999, got {instalment}", field="instalment")
    if not 1 <= claim_serial <= 999_999_999:
        raise InvalidComponent(
            f"claim serial must be 1 to 999999999, got {claim_serial}", field="claim_serial"
        )
    if fiscal_year < 0:
        raise InvalidComponent(f"fiscal year must not be negative, got {fiscal_year}", field="fiscal_year")
    return f"{fiscal_year % 100:02d}{claim_serial:09d}{instalment:03d}00"


def parse_payment_number(number: str) -> PaymentNumber:
    """Split a payment number this gateway issued; reject any other layout.

    >>> parse_payment_number('2600000123400300')
    PaymentNumber(fiscal_year=26, claim_serial=1234, instalment=3)
    >>> parse_payment_number('2600000123400301')
    Traceback (most recent call last):
        ...
    barcodes.exceptions.InvalidComponent: payment number reserved digits are '01', expected '00'
    """
    _digits(number, 16, "payment_number")
    if number[14:] != "00":
        raise InvalidComponent(
            f"payment number reserved digits are {number[14:]!r}, expected '00'", field="payment_number"
        )
    serial, instalment = int(number[2:11]), int(number[11:14])
    if serial == 0 or instalment == 0:
        raise InvalidComponent("payment number has a zero claim serial or instalment", field="payment_number")
    return PaymentNumber(fiscal_year=int(number[:2]), claim_serial=serial, instalment=instalment)


def validate_issued(
    number: str,
    *,
    issuer_prefix: str,
    consignor_code: str,
    amount_cap: int = 300_000,
    stamp_flag: int = 0,
) -> CvsBarcode:
    """The stricter check for slips this office issues; return the parsed barcode.

    On top of :func:`validate`: this office's prefix and consignor, the payment-number layout, an amount of
    1 … ``amount_cap`` yen, the configured stamp flag and a real expiry date (never ``999999``).

    >>> validate_issued('91912345001232600000123400300026013100100001',
    ...                 issuer_prefix='912345', consignor_code='00123').amount
    10000
    >>> validate_issued('91929023252070000010123499900299999900154357',
    ...                 issuer_prefix='912345', consignor_code='00123')
    Traceback (most recent call last):
        ...
    barcodes.exceptions.InvalidComponent: issuer prefix is '929023', expected '912345'
    """
    barcode = parse(number)
    if barcode.issuer_prefix != issuer_prefix:
        raise InvalidComponent(
            f"issuer prefix is {barcode.issuer_prefix!r}, expected {issuer_prefix!r}", field="issuer_prefix"
        )
    if barcode.issuer_prefix[0] not in "95":
        raise InvalidComponent("issuer prefix must begin with 9 or 5", field="issuer_prefix")
    if barcode.consignor_code != consignor_code:
        raise InvalidComponent(
            f"consignor code is {barcode.consignor_code!r}, expected {consignor_code!r}",
            field="consignor_code",
        )
    parse_payment_number(barcode.payment_number)
    if not 1 <= barcode.amount <= amount_cap:
        raise InvalidComponent(f"amount {barcode.amount} is outside 1 … {amount_cap} yen", field="amount")
    if barcode.stamp_flag != stamp_flag:
        raise InvalidComponent(
            f"stamp flag is {barcode.stamp_flag}, expected {stamp_flag}", field="stamp_flag"
        )
    if barcode.expiry is None:
        raise InvalidComponent("issued slips carry a real expiry date, not 999999", field="expiry")
    return barcode

"""What a slip PDF prints: frozen dataclasses, checked when built.

A :class:`SlipDocument` refuses to exist when its printed fields disagree with its barcode (amount, payment
number, reissue count, expiry), when it has no office contact (:class:`ContactBlock`) or when any text it
would print contains one of the words that would reveal why the money is owed (:data:`PRIVACY_WORDS`,
spec/barcode.md "Privacy"). Names are given without the honorific; the renderer adds 様.
"""

from __future__ import annotations

import datetime
import re
import unicodedata
from dataclasses import dataclass
from dataclasses import fields

from barcodes import cvs
from barcodes.exceptions import BarcodeError
from barcodes.render import SymbolOptions
from gateway.pdf.wording import CONTACT_MAX_CHARS
from gateway.pdf.wording import PRIVACY_WORDS
from gateway.pdf.wording import phone_number
from gateway.pdf.wording import privacy_word

__all__ = [
    "PRIVACY_WORDS",
    "AddressBlock",
    "ContactBlock",
    "Envelope",
    "PrivacyWordError",
    "SenderBlock",
    "SlipContentError",
    "SlipDocument",
    "SymbolOptions",
]

_POSTAL_CODE = re.compile(r"^(\d{3})-?(\d{4})$", re.ASCII)
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


class SlipContentError(ValueError):
    """A slip, address or sender cannot be printed as given; ``field`` names the offending field."""

    def __init__(self, msg: str, *, field: str) -> None:
        self.field = field
        super().__init__(msg)


class PrivacyWordError(SlipContentError):
    """A printed text contains a word from :data:`PRIVACY_WORDS`; ``word`` is the first one found."""

    def __init__(self, *, field: str, word: str) -> None:
        self.word = word
        # The message names the field, not the text: the text may be personal data.
        super().__init__(f"{field} contains a word that must not be printed", field=field)


def _check_neutral(owner: object) -> None:
    """Raise :class:`PrivacyWordError` if a str (or tuple of str) field of ``owner`` holds a privacy word."""
    for f in fields(owner):  # type: ignore[arg-type]
        value = getattr(owner, f.name)
        texts = (value,) if isinstance(value, str) else value if isinstance(value, tuple) else ()
        for text in texts:
            if not isinstance(text, str):
                continue
            word = privacy_word(text)
            if word is not None:
                raise PrivacyWordError(field=f.name, word=word)


def _check_lines(owner: object, name: str, *, least: int, most: int, drop_blank: bool = False) -> None:
    value = getattr(owner, name)
    if not isinstance(value, tuple) or not all(isinstance(v, str) for v in value):
        raise SlipContentError(f"{name} must be a tuple of strings", field=name)
    if drop_blank:
        # Address text split on line breaks may carry empty lines; they would print as gaps.
        value = tuple(v.strip() for v in value if v.strip())
        object.__setattr__(owner, name, value)
    if not all(v.strip() for v in value):
        raise SlipContentError(f"{name} must not contain empty lines", field=name)
    if not least <= len(value) <= most:
        raise SlipContentError(f"{name} has {len(value)} lines, expected {least} to {most}", field=name)


def _check_text(owner: object, name: str) -> None:
    value = getattr(owner, name)
    if not isinstance(value, str) or not value.strip():
        raise SlipContentError(f"{name} must be a non-empty string", field=name)


@dataclass(frozen=True, kw_only=True)
class ContactBlock:
    """The office's contact printed on every slip and shown on the payer pages, and the counter bank.

    From configuration (``GATEWAY_CONTACT_*``, ``GATEWAY_COUNTER_BANK``): a section whose name says nothing
    about why the money is owed (e.g. 見本市 会計課 収納係, never the welfare office).

    Raises:
        SlipContentError: a text is empty or too long, or the phone number is not one.
        PrivacyWordError: a text contains a word from :data:`PRIVACY_WORDS`.
    """

    name: str
    """e.g. 見本市 会計課 収納係."""
    phone: str
    """Digits and hyphens, e.g. 000-0000-0000; normalised to half-width."""
    hours: str
    """e.g. 平日 8時30分〜17時15分."""
    counter_bank: str
    """Where the slip is paid after its 取扱期限, e.g. 指定金融機関(見本銀行)の窓口."""

    def __post_init__(self) -> None:
        for name in ("name", "phone", "hours", "counter_bank"):
            _check_text(self, name)
            object.__setattr__(self, name, getattr(self, name).strip())
        for name, most in CONTACT_MAX_CHARS.items():
            if len(getattr(self, name)) > most:
                raise SlipContentError(f"{name} is longer than {most} characters", field=name)
        try:
            object.__setattr__(self, "phone", phone_number(self.phone))
        except ValueError as ex:
            raise SlipContentError(str(ex), field="phone") from None
        _check_neutral(self)


@dataclass(frozen=True, kw_only=True)
class SlipDocument:
    """One slip (one A4 page): the barcode and everything printed around it.

    Raises:
        SlipContentError: a field is missing or disagrees with the barcode.
        PrivacyWordError: a printed text contains a word from :data:`PRIVACY_WORDS`.
    """

    slip_number: str
    """Payment number, hyphen, reissue count: ``2600000123400300-1``."""
    payment_number: str
    barcode: str
    """The 44 digits; stored compact."""
    amount: int
    """Yen; must equal the barcode's amount."""
    due_date: datetime.date
    """納期限, printed; the barcode's expiry is a separate, later date."""
    barcode_expiry: datetime.date
    """The last day registers and apps accept the slip; must equal the barcode's expiry."""
    fiscal_year: int
    """The fiscal year of the claim, e.g. 2026 (printed 令和8年度)."""
    issuer_name: str
    """The municipality, e.g. 〇〇市."""
    reason_line: str
    """Neutral reason for payment, e.g. 令和8年11月1日付け通知のとおり."""
    qr_url: str
    """The payer page; the QR code is labelled as not a payment code."""
    accepted_channels: tuple[str, ...]
    """The chains and apps the office has enabled, as printed (e.g. セブン-イレブン, PayPay)."""
    contact: ContactBlock
    """The office's neutral お問い合わせ先 and where the slip is paid after its 取扱期限 (configuration)."""
    item_label: str = "納付金"
    payee_label: str = "会計管理者"
    instalment: int = 1
    instalment_count: int | None = None
    """Number of instalments; 第N回 is printed when there is more than one."""
    reissue_count: int = 0
    """0 for the original; a reissue prints a visible 再発行 mark. Must equal barcode digit 30."""
    issuer_seal_png: bytes | None = None
    """The seal image from the office's configuration (PNG, transparency kept)."""
    payer_name: str | None = None
    """Printed only on the payer's 領収証書, with 様; never on the store's part or the 領収済通知書."""
    notes: tuple[str, ...] = ()
    """Extra neutral lines for the notice at the top of the page."""

    def __post_init__(self) -> None:
        texts = ("slip_number", "payment_number", "issuer_name", "reason_line", "item_label", "payee_label")
        for name in texts:
            _check_text(self, name)
        try:
            barcode = cvs.parse(self.barcode)
        except BarcodeError as ex:
            raise SlipContentError(f"barcode is not valid: {ex.detail}", field="barcode") from ex
        object.__setattr__(self, "barcode", cvs.compact(self.barcode))
        if barcode.payment_number != self.payment_number:
            raise SlipContentError("payment number differs from the barcode's", field="payment_number")
        if barcode.reissue_count != self.reissue_count:
            raise SlipContentError("reissue count differs from the barcode's", field="reissue_count")
        if self.slip_number != f"{self.payment_number}-{self.reissue_count}":
            raise SlipContentError(
                "slip number is not payment number, '-', reissue count", field="slip_number"
            )
        if isinstance(self.amount, bool) or not isinstance(self.amount, int) or self.amount < 1:
            raise SlipContentError(f"amount must be a positive int, got {self.amount!r}", field="amount")
        if barcode.amount != self.amount:
            raise SlipContentError(
                f"amount {self.amount} differs from the barcode's {barcode.amount}", field="amount"
            )
        if barcode.expiry != self.barcode_expiry:
            raise SlipContentError("barcode expiry differs from the barcode's", field="barcode_expiry")
        if self.due_date > self.barcode_expiry:
            raise SlipContentError("due date is after the barcode expiry", field="due_date")
        if self.fiscal_year < 2019:
            raise SlipContentError(f"fiscal year {self.fiscal_year} is before 令和", field="fiscal_year")
        if self.instalment < 1:
            raise SlipContentError(f"instalment must be 1 or more, got {self.instalment}", field="instalment")
        if self.instalment_count is not None and self.instalment_count < self.instalment:
            raise SlipContentError("instalment count is below the instalment", field="instalment_count")
        if not self.qr_url.startswith(("https://", "http://")):
            raise SlipContentError("QR URL must be an http(s) URL", field="qr_url")
        _check_lines(self, "accepted_channels", least=1, most=30)
        _check_lines(self, "notes", least=0, most=4)
        if self.payer_name is not None:
            _check_text(self, "payer_name")
        if self.issuer_seal_png is not None and not self.issuer_seal_png.startswith(_PNG_SIGNATURE):
            raise SlipContentError("issuer seal is not a PNG image", field="issuer_seal_png")
        if not isinstance(self.contact, ContactBlock):
            raise SlipContentError("a slip carries the office's contact", field="contact")
        _check_neutral(self)


@dataclass(frozen=True, kw_only=True)
class AddressBlock:
    """The addressee shown through the envelope window: 〒, up to three address lines, name (様 added).

    Blank address lines are dropped and the others stripped.

    Raises:
        SlipContentError: the postal code is not 7 digits or a line is missing.
        PrivacyWordError: a line contains a word from :data:`PRIVACY_WORDS`.
    """

    postal_code: str
    """``123-4567`` or ``1234567`` (full-width accepted); printed as 〒123-4567."""
    address_lines: tuple[str, ...]
    name: str

    def __post_init__(self) -> None:
        # NFKC: the welfare system's data may have full-width digits and hyphen (１００－０００１).
        code = unicodedata.normalize("NFKC", self.postal_code) if isinstance(self.postal_code, str) else ""
        match = _POSTAL_CODE.match(code)
        if match is None:
            raise SlipContentError("postal code must be 7 digits (123-4567)", field="postal_code")
        object.__setattr__(self, "postal_code", f"{match[1]}-{match[2]}")
        _check_lines(self, "address_lines", least=1, most=3, drop_blank=True)
        _check_text(self, "name")
        _check_neutral(self)


@dataclass(frozen=True, kw_only=True)
class SenderBlock:
    """The neutral return address printed in the window above the addressee (from configuration).

    Raises:
        SlipContentError: the label is empty or there are more than two address lines.
        PrivacyWordError: a line contains a word from :data:`PRIVACY_WORDS`.
    """

    sender_label: str
    """e.g. 〇〇市 会計管理者; never the name of the department that decided the claim."""
    address_lines: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _check_text(self, "sender_label")
        _check_lines(self, "address_lines", least=0, most=2, drop_blank=True)
        _check_neutral(self)


@dataclass(frozen=True, kw_only=True)
class Envelope:
    """One mailing: the addressee, the sender and the slips in it (one page each, the address on the first).

    Raises:
        SlipContentError: there are no slips.
    """

    address: AddressBlock
    sender: SenderBlock
    slips: tuple[SlipDocument, ...]

    def __post_init__(self) -> None:
        if not isinstance(self.slips, tuple) or not self.slips:
            raise SlipContentError("an envelope holds a non-empty tuple of slips", field="slips")

"""What the slip, its QR caption and the payer pages say in common, and the words none of them may say.

Kept apart from the renderer and free of imports so that the configuration can check the office's own texts
(the contact printed on every slip) against the same list when it loads, without loading reportlab.

>>> privacy_word("見本市 会計課 収納係") is None
True
>>> privacy_word("見本市 保護課")
'保護'
>>> phone_number("０３－１２３４－５６７８")
'03-1234-5678'
>>> tel_uri("03-1234-5678")
'tel:0312345678'
>>> phone_number("03-1234-567")
Traceback (most recent call last):
    ...
ValueError: a phone number has 10 or 11 digits, got 9
>>> after_expiry_sentence("指定金融機関(見本銀行)の窓口")
'取扱期限を過ぎた場合は、指定金融機関(見本銀行)の窓口でこの納付書によりお支払いいただけます。'
"""

from __future__ import annotations

import re
import unicodedata

__all__ = [
    "AFTER_EXPIRY_HEADING",
    "CONTACT_HEADING",
    "CONTACT_MAX_CHARS",
    "PAYER_PAGE_PURPOSE",
    "PRIVACY_WORDS",
    "QR_LABEL",
    "QR_NOT_FOR_PAYMENT",
    "after_expiry_sentence",
    "phone_number",
    "privacy_word",
    "tel_uri",
]

PRIVACY_WORDS: tuple[str, ...] = (
    "生活保護",
    "保護費",
    "保護",
    "福祉",
    "扶助",
    "徴収金",
    "不正",
    "第63条",
    "第78条",
    "ケース",
)
"""Words that never appear on a slip, an envelope, a PDF's metadata or a QR URL (spec/barcode.md)."""

PAYER_PAGE_PURPOSE = "スマートフォンで納付書を表示"
"""What the QR code opens: the first line of its caption on paper, the heading of the page it opens."""
QR_NOT_FOR_PAYMENT = "QRコードでは支払えません"
"""The QR code is no payment code: the caption's second line and the page's first sentence say so."""
QR_LABEL = (PAYER_PAGE_PURPOSE, f"({QR_NOT_FOR_PAYMENT})")
CONTACT_HEADING = "お問い合わせ先"
AFTER_EXPIRY_HEADING = "取扱期限を過ぎたら"

CONTACT_MAX_CHARS = {"name": 24, "hours": 24, "counter_bank": 30}
"""Longest texts (characters) that fit the slip's payer part on one line (the counter bank wraps in a
sentence); the renderer still measures and refuses what does not fit."""

_PHONE = re.compile(r"^0[0-9]*(-[0-9]+)*$", re.ASCII)


def privacy_word(text: str) -> str | None:
    """The first word of :data:`PRIVACY_WORDS` in ``text`` (compared after NFKC, so half-width kana and
    full-width digits count too), or None."""
    normal = unicodedata.normalize("NFKC", text)
    for word in PRIVACY_WORDS:
        if word in text or word in normal:
            return word
    return None


def phone_number(text: str) -> str:
    """A Japanese phone number as printed: digits and single hyphens, starting with 0, 10 or 11 digits.

    Full-width digits and hyphens are accepted and returned half-width.

    Raises:
        ValueError: anything else (parentheses, spaces, an extension, a foreign number).
    """
    value = unicodedata.normalize("NFKC", text.strip()).replace("\u2212", "-").replace("\u2010", "-")
    if not _PHONE.match(value):
        raise ValueError("a phone number is digits and single hyphens, starting with 0")
    digits = sum(c.isdigit() for c in value)
    if digits not in (10, 11):
        raise ValueError(f"a phone number has 10 or 11 digits, got {digits}")
    return value


def tel_uri(phone: str) -> str:
    """The ``tel:`` link of a number checked by :func:`phone_number` (digits only)."""
    return "tel:" + "".join(c for c in phone if c.isdigit())


def after_expiry_sentence(counter_bank: str, slip: str = "この納付書") -> str:
    """Where a slip can still be paid once its barcode has expired: the counter bank, with the slip itself.

    ``slip`` is how the text refers to the slip: on paper 「この納付書」, on a page 「お手元の納付書」.
    """
    return f"取扱期限を過ぎた場合は、{counter_bank}で{slip}によりお支払いいただけます。"

"""The one message catalogue: every Japanese word a staff page, a flash message, an error page or a Japanese
report shows comes from here. The API and the CLI keep the spec's English vocabulary and messages.

* ``label(group, code)`` — the Japanese name of a code (a status, an exception kind, a channel …);
* ``field_label(name)`` — the Japanese name of a field (used to locate errors: 3行目「金額」);
* ``error_text(ex)`` — a typed :class:`~gateway.errors.GatewayError` as one Japanese sentence, from its
  ``key``/``params`` when it has one, otherwise from its class, its location and its field.

No Flask here: services that write Japanese reports use the same tables.
"""

from __future__ import annotations

from typing import Any

LABELS: dict[str, dict[str, str]] = {
    "claim_status": {
        "open": "未納",
        "paid": "完納",
        "overpaid": "過納",
        "written_off": "不納欠損",
        "extinguished": "消滅",
        "cancelled": "取消(調定取消)",
    },
    "slip_status": {
        "issued": "有効",
        "paid": "納付済",
        "superseded": "再発行済",
        "void": "無効",
    },
    "payment_state": {
        "preliminary": "速報",
        "confirmed": "確報",
        "cancelled": "取消",
    },
    "legal_basis": {
        "art63": "第63条返還金",
        "art77": "第77条徴収金",
        "art77_2": "第77条の2徴収金",
        "art78": "第78条徴収金",
        "unjust_enrichment": "不当利得",
        "benefit_return": "給付金返還",
        "other": "その他",
    },
    "exception_kind": {
        "unknown_slip": "該当納付書なし",
        "amount_mismatch": "金額相違",
        "duplicate_payment": "二重納付",
        "paid_after_expiry": "取扱期限後の納付",
        "paid_void_slip": "無効にした納付書への納付",
        "overpayment": "過納",
        "unexpected_channel": "契約外の収納チャネル",
        "cancel_without_preliminary": "速報のない取消",
        "cancel_after_confirmation": "確報後の取消",
        "confirmation_differs": "速報と確報の相違",
        "unconfirmed_preliminary": "確報未着",
        "remittance_mismatch": "入金額相違",
    },
    "exception_status": {"open": "未処理", "pending_approval": "承認待ち", "resolved": "処理済"},
    "resolution": {
        "matched_to_claim": "債権に消込(要承認)",
        "refund_due": "還付(過誤納)",
        "applied_to_claim": "他債権へ充当(要承認)",
        "agent_withdrawn": "収納代行会社がデータを取下げ",
        "no_action": "処理不要",
    },
    "record_kind": {"preliminary": "速報", "confirmed": "確報", "cancelled": "取消"},
    "file_status": {"accepted": "取込済", "duplicate_file": "重複", "rejected": "不備"},
    "role": {
        "admin": "システム管理者",
        "finance": "収納担当",
        "approver": "承認者",
        "accounting": "会計管理者",
        "auditor": "監査担当",
        "print_vendor": "印刷委託業者",
    },
    "job": {
        "inbox": "受信フォルダの取込",
        "fetch": "収納データの取得",
        "reconcile": "消込",
        "ageing": "確報未着の確認",
        "daily_report": "日報の作成",
    },
    "job_outcome": {"running": "実行中", "ok": "成功", "failed": "失敗", "skipped": "スキップ"},
    "channel": {
        "0010": "セブン-イレブン",
        "0020": "ローソン",
        "0030": "ファミリーマート",
        "0050": "デイリーヤマザキ",
        "0080": "ミニストップ",
        "0760": "セイコーマート",
        "0730": "ポプラ",
        "0820": "PayPay",
        "0780": "au PAY",
        "0800": "d払い",
        "0910": "郵便振替",
        "0911": "郵便振替",
        # money recorded by staff (gateway payments record)
        "window": "窓口",
        "bank": "金融機関窓口",
        "transfer": "口座振込",
        "deduction": "差引納付",
    },
    "remittance_mode": {"gross": "総額入金", "net": "手数料差引入金"},
    "remittance_status": {"expected": "入金待ち", "matched": "一致", "mismatch": "不一致"},
}

#: Japanese names of the fields that errors and forms name (CSV columns, form fields, file fields).
FIELDS: dict[str, str] = {
    "number": "債権番号",
    "claim_number": "債権番号",
    "legal_basis": "根拠",
    "amount": "金額",
    "fiscal_year": "年度",
    "debtor_ref": "債務者番号",
    "debtor_name": "氏名",
    "debtor_kana": "氏名カナ",
    "debtor_address": "住所",
    "postal_code": "郵便番号",
    "decided_on": "決定日",
    "assessment_number": "調定番号",
    "assessment_date": "調定日",
    "revenue_item": "歳入科目",
    "reason": "理由",
    "status": "状態",
    "instalments": "分割回数",
    "monthly_amount": "月額",
    "first_due_date": "初回納期限",
    "due_date": "納期限",
    "slip_number": "納付書番号",
    "slip": "納付書番号",
    "payment_number": "納付番号",
    "paid_on": "納付日",
    "paid_at": "納付日時",
    "channel": "収納チャネル",
    "channel_code": "収納チャネル",
    "kind_code": "データ種別",
    "record_type": "レコード種別",
    "barcode": "バーコード",
    "store_code": "店舗コード",
    "date": "日付",
    "as_of": "基準日",
    "receipt_date": "収入日",
    "mailed_on": "発送日",
    "file": "ファイル",
    "adapter": "ファイル形式",
    "agent": "収納代行会社",
    "name": "名前",
    "role": "役割",
    "password": "パスワード",
    "note": "メモ",
    "refunded_on": "還付日",
    "refund_amount": "還付額",
    "refund_decided_on": "還付決定日",
    "refund_fiscal_year": "還付年度",
    "encoding": "文字コード",
    "header": "見出し行",
    "trailer": "トレーラーレコード",
    "total": "合計",
    "count": "件数",
}

#: Messages with parameters, by key. Services raise ``GatewayError(..., key=..., params=...)`` where a
#: clerk may see the error; pages render ``error_text``.
MESSAGES: dict[str, str] = {
    "claim.not_found": "債権 {number} は見つかりません。",
    "slip.not_found": "納付書 {slip_number} は見つかりません。",
    "form.required": "「{field}」を入力してください。",
    "form.not_a_number": "「{field}」は半角数字で入力してください(入力値: {value})。",
    "form.not_a_date": "「{field}」は日付で入力してください(入力値: {value})。",
    "form.choose": "「{field}」を選んでください。",
    "exception.four_eyes": "ご自身の提案は承認・差戻しできません。別の承認者が行います(二人確認)。",
}

#: What a clerk is told for an error without a key, by the error's class code.
BY_CODE: dict[str, str] = {
    "invalid_input": "入力内容に誤りがあります。",
    "bad_request": "入力内容に誤りがあります。",
    "not_found": "該当するデータが見つかりません。",
    "conflict": "現在の状態ではこの操作はできません。画面を更新して状態を確かめてください。",
    "unauthorized": "ログインしてください。",
    "forbidden": "この操作を行う権限がありません。",
    "config_error": "設定に問題があります。システム管理者に連絡してください。",
    "file_rejected": "ファイルに不備があります。",
}
GENERIC = "処理できませんでした。もう一度お試しください。続く場合はシステム管理者に連絡してください。"


def label(group: str, code: Any) -> str:
    """The Japanese label of ``code`` in ``group``; ``—`` for none, 「その他」 for an unknown code (a clerk
    never sees an internal code)."""
    if code is None or code == "":
        return "—"
    return LABELS.get(group, {}).get(str(code), "その他")


def field_label(name: str | None) -> str:
    """The Japanese name of a field; an unknown one becomes 「入力項目」."""
    if not name:
        return "入力項目"
    return FIELDS.get(name, FIELDS.get(name.split(".")[-1], "入力項目"))


def message(key: str, **params: Any) -> str:
    """The catalogue message ``key`` with ``params`` filled in (field names translated)."""
    if "field" in params:
        params["field"] = field_label(params["field"])
    return MESSAGES[key].format(**params)


def where(file: str | None, line: int | None, field: str | None) -> str:
    """Where bad input is: 「claims.csv」3行目「金額」."""
    parts = []
    if file:
        parts.append(f"「{file}」")
    if line is not None:
        parts.append(f"{line}行目")
    if field:
        parts.append(f"「{field_label(field)}」")
    return "".join(parts)


def error_text(ex: BaseException) -> str:
    """One Japanese sentence for an error a clerk caused or must know about."""
    from gateway.errors import GatewayError

    if not isinstance(ex, GatewayError):
        return GENERIC
    key = getattr(ex, "key", None)
    if key and key in MESSAGES:
        return message(key, **dict(getattr(ex, "params", {}) or {}))
    located = where(ex.file, ex.line, ex.field)
    base = BY_CODE.get(ex.code, GENERIC)
    return f"{located}: {base}" if located else base

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

from adapters.channels import CHANNELS
from reconciliation.vocabulary import KIND_LABELS

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
    "exception_kind": KIND_LABELS,  # the one table, kept with the kinds in reconciliation
    "exception_status": {"open": "未処理", "pending_approval": "承認待ち", "resolved": "処理済"},
    "resolution": {
        "matched_to_claim": "債権に消込(要承認)",
        "refund_due": "還付(過誤納)",
        "applied_to_claim": "他債権へ充当(要承認)",
        "agent_withdrawn": "収納代行会社がデータを取下げ",
        "no_action": "処理不要",
    },
    "record_kind": {
        "preliminary": "速報",
        "confirmed": "確報",
        "cancelled": "取消",
        "cancellation": "取消",
        "credit": "入金",
        "debit": "出金",
    },
    "file_status": {"accepted": "取込済", "duplicate_file": "重複", "rejected": "不備"},
    "print_skip": {
        "no_address": "郵便番号または住所が未登録",
        "address_not_printable": "氏名・住所を印字できない(文字・行数)",
        "no_longer_live": "有効でなくなった(納付済・無効など)",
    },
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
    "job_outcome": {
        "running": "実行中",
        "ok": "成功",
        "failed": "失敗",
        "skipped": "スキップ",
        "abandoned": "中断(終了が記録されず)",
    },
    "channel": {
        **{code: channel.name for code, channel in CHANNELS.items()},  # the agents' channels: adapters data
        # money recorded by staff (gateway payments record)
        "window": "窓口",
        "bank": "金融機関窓口",
        "transfer": "口座振込",
        "deduction": "差引納付",
    },
    "remittance_mode": {"gross": "総額入金", "net": "手数料差引入金"},
    "remittance_status": {"expected": "入金待ち", "matched": "一致", "mismatch": "不一致"},
    # -- administration and the audit log (admin, audit and start pages)
    "user_state": {"active": "利用中", "disabled": "停止中"},
    "client_state": {"active": "有効", "revoked": "失効"},
    "delegation_basis": {"art78_3": "第78条の3による委託", "designated": "指定納付受託者"},
    #: an agent's adapter options (``agents.adapter_options``): the option, then each option's values
    "adapter_option": {"dsk_csv.record_type_81": "DSK種別81の扱い"},
    "dsk_csv.record_type_81": {
        "reject": "ファイルごと受け付けない(既定)",
        "skip": "その行を取り込まず、件数と行番号を記録する",
    },
    "adapter": {
        "fixed120": "固定長120バイト",
        "dsk_csv": "CSV(DSK形式)",
        "zengin_transfer": "全銀 振込入金通知",
        "zengin_statement": "全銀 入出金取引明細",
        "bank_counter": "金融機関窓口(OCR・収納データ)",
    },
    #: what an audit event did (``ctx.record`` / ``@mutation`` action names)
    "audit_action": {
        "user.create": "利用者の登録",
        "user.login": "ログイン",
        "user.login_failed": "ログインの失敗",
        "user.logout": "ログアウト",
        "user.set_password": "パスワードの設定",
        "user.token": "APIトークンの発行",
        "user.token_revoke": "APIトークンの失効",
        "user.disable": "利用者の停止",
        "user.enable": "利用者の再開",
        "user.set_role": "役割の変更",
        "client.create": "APIクライアントの登録",
        "client.rotate": "APIクライアントの秘密鍵の再発行",
        "client.revoke": "APIクライアントの失効",
        "agent.add": "収納代行会社の登録",
        "agent.fee": "手数料の登録",
        "agent.adapter_options": "ファイルの読取設定の変更",
        "claim.create": "債権の登録",
        "claims.import": "債権の一括取込",
        "claim.adjust": "調定額の変更",
        "claim.close": "債権の終了の記録",
        "debtor.update": "債務者情報の更新",
        "slip.issue": "納付書の発行",
        "slips.issue": "納付書の発行",
        "slip.reissue": "納付書の再発行",
        "slip.void": "納付書の無効化",
        "print_batch.create": "印刷バッチの作成",
        "print_batch.empty": "印刷バッチの作成(対象なし)",
        "print_batch.reprint": "印刷バッチの再印刷",
        "print_batch.mailed": "発送日の記録",
        "print_batch.download": "印刷データのダウンロード",
        "settlement_file.ingest": "収納データの取込",
        "settlement_file.reject": "収納データの受付拒否(不備)",
        "settlement_file.original": "収納データ原本のダウンロード",
        "settlement_batch.post": "収納データの受信(API)",
        "settlement_batch.repost": "収納データの再送(API)",
        "fetch.file": "収納データの取得",
        "reconcile.run": "消込の実行",
        "reconcile.ageing": "確報未着の確認",
        "exception.propose": "例外の処理の提案",
        "exception.resolve": "例外の処理",
        "exception.approve": "提案の承認",
        "exception.reject": "提案の差戻し",
        "exception.unmatch": "処理の取消",
        "exception.refunded": "還付済みの記録",
        "payment.record": "入金の記録",
        "export.accounting": "会計連携データの出力",
        "report.download": "帳票のダウンロード",
        "pii.view": "個人情報の閲覧",
        "pii.search": "氏名による検索(個人情報)",
        "claims.import_file": "債権CSVファイルの取込",
        "debtor.reindex_names": "氏名検索用索引の作成",
    },
    #: what an audit event is about
    "audit_target": {
        "user": "利用者",
        "api_client": "APIクライアント",
        "agent": "収納代行会社",
        "claim": "債権",
        "debtor": "債務者",
        "slip": "納付書",
        "print_batch": "印刷バッチ",
        "claims_file": "債権CSVファイル",
        "settlement_file": "収納データファイル",
        "settlement_batch": "収納データ(API)",
        "fetched_file": "取得ファイル",
        "exception": "例外",
        "payment": "入金",
        "receipt_date": "収入日",
        "file": "ファイル",
        "report": "帳票",
    },
    #: the purpose a view of personal data was logged with
    "pii_purpose": {
        "print_batch": "印刷バッチの作成",
        "slip.pdf": "納付書PDFの作成",
        "claim.show": "債権の表示",
        "arrears_list": "滞納一覧",
        "claims.search": "債権の検索",
    },
    # -- exceptions, payments and refunds (staff pages of the queue, payments and reports)
    "exception_action": {
        "opened": "発生",
        "proposed": "処理を提案",
        "approved": "承認",
        "rejected": "差戻し",
        "resolved": "処理",
        "unmatched": "処理の取消",
        "refunded": "還付済みを記録",
    },
    "refund_status": {"refund_due": "還付待ち", "refunded": "還付済", "undone": "取消済"},
    "payment_source": {
        "agent": "収納代行",
        "manual": "窓口等で記録",
        "matched": "例外処理で消込",
        "applied_out": "充当(振替元)",
        "applied_in": "充当(振替先)",
    },
    #: the office reports (収納日報, 委託徴収計算書): row kinds of their CSV, words of their pages and PDFs
    "office_report": {
        "collection_title": "収納日報",
        "statement_title": "委託徴収(収納)計算書",
        "line": "明細",
        "channel_total": "チャネル計",
        "item_total": "科目計",
        "year_total": "年度計",
        "day_total": "振込日計",
        "credit": "入金",
        "grand_total": "合計",
        "no_channel": "例外処理",
        "current": "現年度分",
        "arrears": "滞納繰越分",
    },
    #: the three-way match's verdict on one transfer date, as the 計算書 names it
    "office_remittance_status": {
        "pending": "入金待ち",
        "matched": "一致",
        "mismatch": "不一致",
        "none": "未照合",
    },
    #: the data-kind codes of agent files (01/02/03, postal 12/22)
    "kind_code": {"01": "速報", "02": "確報", "03": "取消", "12": "確報(郵便振替)", "22": "訂正(郵便振替)"},
    #: how reconciliation linked a confirmation to its preliminary record
    "link_how": {"exact": "完全一致", "oldest": "最も古い速報", "postal": "郵便振替の訂正"},
    #: the keys of an exception's detail, as the exception page names them
    "exception_detail": {
        "kind": "データ区分",
        "kind_code": "データ種別",
        "payment_number": "納付番号",
        "paid_date": "納付日",
        "issuer_prefix": "収納機関番号",
        "consignor_code": "委託者コード",
        "payment_state": "入金の状態",
        "slip_amount": "納付書の金額",
        "paid_amount": "納付額",
        "barcode_expiry": "取扱期限",
        "void_reason": "納付書を無効にした理由",
        "channel_code": "収納チャネル",
        "enabled": "契約しているチャネル",
        "preliminary_amount": "速報の金額",
        "confirmed_amount": "確報の金額",
        "preliminary_paid_date": "速報の納付日",
        "confirmed_paid_date": "確報の納付日",
        "linked": "速報との結び付け",
        "claim_amount": "調定額",
        "refunded_amount": "還付済額",
        "as_of": "確認日",
        "transfer_date": "振込日",
        "expected": "入金予定額",
        "credited": "入金額",
        "gross": "収納総額",
        "fees": "手数料",
        "fee_tax": "手数料の消費税",
        "mode": "入金方式",
    },
    #: what an exception's history says an action did
    "exception_history": {
        "resolution": "処理",
        "claim_number": "債権番号",
        "records": "収納データ",
        "refund_amount": "還付額",
        "refund_decided_on": "還付決定日",
        "refund_fiscal_year": "還付年度",
        "amount": "金額",
        "source_claim": "振替元の債権",
        "target_claim": "振替先の債権",
        "proposed_by": "提案者",
        "created": "作成した入金",
        "confirmed": "確報にした入金",
        "cancelled": "取り消した入金",
        "previous": "取り消した処理",
        "cancelled_payments": "取り消した入金",
        "returned_to_preliminary": "速報に戻した入金",
        "reinstated": "戻した入金",
        "refund_undone": "還付の記録を取消",
        "refunded_on": "還付日",
        "via": "経由",
    },
}

#: Japanese names of the fields that errors and forms name (CSV columns, form fields, file fields).
FIELDS: dict[str, str] = {
    "barcode_kind": "バーコード種別",
    "customer_segment": "客層データ",
    "cvs_code": "CVSコード",
    "reserve": "予備",
    "file_kind": "ファイル種別",
    "zeros": "固定値(ゼロ)",
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
    "date_from": "期間の始め",
    "date_to": "期間の終わり",
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
    "plan": "発行方法",
    "q": "検索語",
    # -- administration and audit-log detail keys
    "key_id": "キーID",
    "code": "コード",
    "adapters": "ファイル形式",
    "remittance_mode": "入金方式",
    "channels": "収納チャネル",
    "fee_per_item": "1件あたり手数料",
    "tax_rate": "消費税率",
    "tax_rate_bp": "消費税率",
    "fee_channel": "手数料の収納チャネル",
    "fee_valid_from": "手数料の適用開始日",
    "valid_from": "適用開始日",
    "remitter_name": "振込依頼人名",
    "delegation_basis": "委託の根拠",
    "delegation_date": "委託日",
    "old_role": "変更前の役割",
    "revoked": "失効した件数",
    "prefix": "トークンの先頭",
    "via_claim": "債権",
    "via_file": "ファイル",
    "rows": "行数",
    "created": "登録件数",
    "unchanged": "変更なし件数",
    "old_amount": "変更前の金額",
    "new_amount": "変更後の金額",
    "supersedes": "元の納付書",
    "envelopes": "封筒数",
    "pages": "ページ数",
    "skipped": "除外件数",
    "left_out": "除外件数",
    "issued_on": "発行日",
    "size": "大きさ",
    "source": "受付経路",
    "records": "件数",
    "new_records": "新規件数",
    "duplicate_records": "重複件数",
    "error": "不備の内容",
    "client": "APIクライアント",
    "matched": "消込件数",
    "confirmed": "確報件数",
    "cancelled": "取消件数",
    "exceptions_opened": "発生した例外",
    "by_kind": "種類別件数",
    "effects": "結果",
    "previous": "取り消した処理",
    "undone": "取り消した内容",
    "purpose": "目的",
    "debtor_ids": "債務者",
    "fields": "項目",
    "entries": "行数",
    "bytes": "大きさ",
    "active": "状態",
    # settlement file layouts (adapters): where a rejected file is broken
    "agent_code": "収納代行会社コード",
    "consignor_code": "委託者コード",
    "consignor_name": "委託者名",
    "created_on": "作成日",
    "data_kind": "データ種別",
    "payment_date": "納付日",
    "payment_time": "納付時刻",
    "capture_date": "データ取得日",
    "transfer_date": "振込予定日",
    "accounting_date": "計上日",
    "zeros_1": "固定値(ゼロ)",
    "zeros_2": "固定値(ゼロ)",
    "filler": "予備(空白)",
    "count_01": "速報の件数",
    "amount_01": "速報の合計金額",
    "count_02": "確報の件数",
    "amount_02": "確報の合計金額",
    "count_03": "取消の件数",
    "amount_03": "取消の合計金額",
    "kind": "データ区分",
    "cancellation": "取消区分",
    "direction": "入出金区分",
    "type_code": "種別コード",
    "code_class": "コード区分",
    "payment_time_hhmm": "納付時刻",
    "sha256": "ファイル識別値",
    "batch_id": "印刷バッチ",
    "due_from": "納期限(から)",
    "due_to": "納期限(まで)",
    "claims": "債権番号",
    "resolution": "処理",
    "adapter_options": "ファイルの読取設定",
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
    "print_batch.not_found": "この印刷バッチは見つかりません。一覧から選び直してください。",
    "print_batch.expired": "この印刷バッチは作成から{days}日を過ぎたため、表示・ダウンロードできません。"
    "必要な場合は収納担当にお問い合わせください。",
    "login.failed": "ユーザー名またはパスワードが違います。",
    "login.locked": "ログインの失敗が続いたため、しばらくログインできません。"
    "{minutes}分後にもう一度お試しください。",
    "session.expired": "一定時間操作がなかったため、ログアウトしました。もう一度ログインしてください。",
    "print_batch.file_missing": "この印刷バッチのファイルはサーバーにありません。"
    "収納担当が「再印刷」でファイルを作り直してください。",
    "print_batch.unknown_claims": "債権番号 {numbers} は見つかりません。番号を確かめてください。",
    "print_batch.mailed_future": "「発送日」に未来の日付は入力できません。発送した日を入力してください。",
    "print_batch.no_selection": "印刷する納付書の条件(納期限の範囲、または債権番号)を入力してください。",
    "print_batch.bad_window": "納期限の範囲が逆です。「から」は「まで」より前の日付にしてください。",
    "settlement.file_not_found": "この収納データファイルは見つかりません。一覧から選び直してください。",
    "settlement.original_missing": "このファイルの原本は保管場所にありません。"
    "システム管理者に連絡してください。",
    "settlement.no_files": "取り込むファイルを選んでください。",
    # a rejected settlement file, by the adapters' error class: {where} = 3行目「金額」, {value} = (値: …)
    "file.unknown_format": "ファイルの形式が分かりません。収納代行会社または金融機関から受け取ったファイルか"
    "確かめてください。{where}{value}",
    "file.ambiguous": "ファイルの形式を一つに決められません。システム管理者に連絡してください。{where}",
    "file.record_length": "{where}: 1行の長さが形式と合いません"
    "(ファイルが壊れているか、別の形式です){value}。収納代行会社に再送を依頼してください。",
    "file.unknown_record_type": "{where}: 形式にない種類の行です{value}。"
    "収納代行会社に再送を依頼してください。",
    "file.field": "{where}: 値が正しくありません{value}。収納代行会社に確認してください。",
    "file.order": "{where}: 行の順序が正しくないか、ファイルが途中で切れています{value}。"
    "収納代行会社に再送を依頼してください。",
    "file.encoding": "{where}: 読めない文字があります{value}。収納代行会社に再送を依頼してください。",
    "file.control_total": "{where}: 最終行の件数・合計と明細が合いません"
    "(明細 {calculated}、最終行 {control})。収納代行会社に再送を依頼してください。",
    "file.agent": "{where}: この市に登録されていない、または使用を停止している"
    "収納代行会社のファイルです{value}。収納代行会社の登録を確かめてください。",
    "file.adapter": "{where}: この収納代行会社からは、この形式のファイルを受け付ける"
    "設定になっていません{value}。システム管理者に連絡してください。",
    "file.consignor": "{where}: 委託者コードが当市のものではありません{value}。"
    "別の団体あてのファイルでないか確かめてください。",
    "file.invalid": "{where}: ファイルに不備があります{value}。収納代行会社に確認してください。",
    "job.failed": "失敗しました。システム管理者に連絡してください。",
    "exception.four_eyes": "ご自身の提案は承認・差戻しできません。別の承認者が行います(二人確認)。",
    # claims (staff pages; CSV import lines read 「3行目「金額」: 数字で入力してください(入力値: abc)」)
    "claim.exists": "債権番号 {number} はすでに登録されています。別の番号を入力してください。",
    "claim.bad_number": "英数字と「-」で32文字以内にしてください(入力値: {value})",
    "claim.bad_legal_basis": "根拠が取込仕様の値(art63、art78 など)ではありません(入力値: {value})",
    "claim.bad_amount": "1円以上の金額を数字で入力してください(入力値: {value})",
    "claim.amount_too_large": "金額が大きすぎます。確かめてください(入力値: {value})",
    "claim.bad_fiscal_year": "年度は2000〜2099の西暦で入力してください(入力値: {value})",
    "claim.debtor_ref_required": "債務者番号を64文字以内で入力してください",
    "claim.debtor_name_required": "氏名を100文字以内で入力してください",
    "claim.bad_postal_code": "郵便番号は7桁(123-4567)で入力してください(入力値: {value})",
    "claim.individual_number": "個人番号(マイナンバー)と思われる値です。登録できないので削除してください",
    "claim.address_too_long": "住所は200文字以内にしてください",
    "claim.closed_no_change": "この債権は終了(不納欠損・消滅・調定取消)が記録済みのため、変更できません。",
    "claim.same_amount": "現在の調定額と同じ金額({amount}円)です。変更後の金額を入力してください。",
    "claim.live_slips_above": (
        "有効な納付書({amount}円分)が変更後の金額を上回ります。先に納付書を無効にしてから減額してください。"
    ),
    "import.encoding": "文字コードを UTF-8 または Shift_JIS にして保存し直してください",
    "import.empty": "ファイルが空です。見出し行と債権の行を入れてください",
    "import.required": "入力してください",
    "import.not_a_number": "数字で入力してください(入力値: {value})",
    "import.not_a_date": "日付(2026-11-01 の形)で入力してください(入力値: {value})",
    "import.individual_number_column": (
        "列「{column}」は個人番号(マイナンバー)の列です。ゲートウェイには送れません。列を削除してください"
    ),
    "import.case_data_column": (
        "列「{column}」はケース記録など保護の情報の列です。ゲートウェイには送れません。列を削除してください"
    ),
    "import.unknown_columns": "使えない列があります: {columns}。取込仕様の列名だけにしてください",
    "import.missing_column": "必須の列「{column}」がありません。見出し行に加えてください",
    "import.repeated_column": "同じ列名が2回あります。1つにしてください",
    "import.column_count": "列の数が見出し行と違います({count}列、見出し行は{header}列)",
    "import.repeated_number": "債権番号 {number} が{first}行目と重複しています",
    "import.exists_differs": (
        "債権 {number} は別の内容で登録済みです。変更は債権の画面の「金額の変更」で行ってください"
    ),
    "import.already": "このファイルは{at}に{who}が取り込み済みです。同じ内容は二度取り込みません。",
    "import.expired": "確認画面の有効期限が切れました。もう一度ファイルを選んでください。",
    "import.no_file": "取り込むCSVファイルを選んでください。",
    # slips
    "slip.one_plan": "発行方法を1つだけ選んでください。",
    "slip.bad_instalments": "「分割回数」は1〜{max}回で入力してください。",
    "slip.bad_monthly_amount": "「月額」は1円以上で入力してください。",
    "slip.due_in_past": "「{field}」が過去の日付です。今日以降の日付を入力してください。",
    "slip.too_many_instalments": (
        "{count}回に分けると0円の納付書ができます(残額 {amount}円)。回数を減らしてください。"
    ),
    "slip.monthly_above_cap": "「月額」が納付書1枚の上限({cap}円)を超えています。",
    "slip.plan_too_long": (
        "この発行方法では納付書が{count}枚になり、上限の{max}枚を超えます。月額を増やしてください。"
    ),
    "slip.above_cap": (
        "納付書1枚の上限({cap}円)を超えます。{k}回以上の分割か、同一納期限での分割を選んでください。"
    ),
    "slip.claim_closed": "この債権は終了が記録済みのため、納付書は発行できません。",
    "slip.covered": "有効な納付書が残額をすべてカバーしています。新しい納付書は不要です。",
    "slip.paid_covers": "納付済み・速報の入金で残額がありません。新しい納付書は不要です。",
    "slip.instalments_used": (
        "この債権は納付書の回番号(999)を使い切っています。システム管理者に連絡してください。"
    ),
    "slip.not_live": "この納付書は有効ではない(納付済・再発行済・無効)ため、この操作はできません。",
    "slip.reissue_limit": (
        "この納付書は再発行の上限({max}回)に達しています。無効にして新しく発行してください。"
    ),
    "slip.payment_pending": "この納付書には速報または確報の入金があるため、再発行できません。",
    "slip.plan_changed": "確認した後に残額が変わりました。内容をもう一度確認してください。",
    "slip.batch_changed": "確認した後に対象の債権が変わりました。内容をもう一度確認してください。",
    "user.bad_name": "「名前」は半角英数字と「.」「-」「_」で64文字以内で入力してください。",
    "user.password_short": "「パスワード」は{min}文字以上で入力してください。",
    "user.exists": "利用者 {name} はすでに登録されています。別の名前を入力してください。",
    "user.not_found": "利用者 {name} は見つかりません。一覧から選び直してください。",
    "user.self": "ご自身のアカウントは停止・役割変更できません。別のシステム管理者が行います。",
    "user.already_disabled": "この利用者はすでに停止しています。",
    "user.already_active": "この利用者はすでに利用中です。",
    "user.same_role": "この利用者はすでにその役割です。別の役割を選んでください。",
    "user.last_admin": "最後のシステム管理者は停止・役割変更できません。先に別の管理者を登録してください。",
    "client.bad_name": "「名前」は1〜128文字で入力してください。",
    "client.not_found": "APIクライアントが見つかりません。一覧から選び直してください。",
    "client.revoked": "このAPIクライアントは失効しています。新しく登録してください。",
    "agent.not_found": "収納代行会社 {code} は登録されていません。一覧から選び直してください。",
    "agent.exists": "収納代行会社 {code} はすでに登録されています。",
    "agent.bad_code": "「コード」は半角数字5桁で入力してください。",
    "agent.bad_channel": "「{field}」は半角数字3〜4桁のチャネルコードで入力してください(入力値: {value})。",
    "agent.bad_tax_rate": "「消費税率」は0〜100の数字で入力してください(例: 10)。",
    "agent.bad_fee": "「1件あたり手数料」は0以上の円単位の金額で入力してください。",
    "agent.fee_pair": "「1件あたり手数料」と「消費税率」は両方入力してください。",
    "agent.bad_adapter_option": "「ファイルの読取設定」の指定に誤りがあります。選択肢から選んでください。",
    "audit.bad_cursor": "ページの指定が正しくありません。最初のページから開き直してください。",
    "exception.not_found": "例外 {id} は見つかりません。一覧から選び直してください。",
    "exception.not_open": "この例外はすでに処理中か処理済みです。画面を更新して状態を確かめてください。",
    "exception.resolution_unfit": "この種類の例外には、その処理はできません。"
    "表示されている処理から選んでください。",
    "exception.nothing_pending": "承認待ちの提案はありません。画面を更新して状態を確かめてください。",
    "exception.not_resolved": "処理済みの例外だけ、処理を取り消せます。",
    "exception.no_claim": "この例外には債権がありません。還付・充当はできません。",
    "exception.no_records": "この例外には収納データがありません。債権への消込はできません。",
    "exception.cancellation": "取消データには消し込む入金がありません。「処理不要」などを選んでください。",
    "exception.claim_closed": "債権 {number} は「{status}」のため、消込・充当できません。",
    "exception.same_claim": "充当先には、元の債権とは別の債権番号を入力してください。",
    "exception.other_debtor": "債権 {number} は別の債務者の債権です。充当は同じ債務者の債権の間だけです。",
    "exception.too_much": "「{field}」が大きすぎます。{available}円以下で入力してください。",
    "exception.would_overpay": "債権 {number} の未納額は{open}円です。それ以下の金額を入力してください。",
    "exception.date_future": "「{field}」に未来の日付は入力できません。",
    "exception.refund_before_decision": "「還付日」は還付決定日({decided_on})以降の日付を入力してください。",
    "exception.no_refund_due": "この例外には還付待ちの還付がありません。"
    "画面を更新して状態を確かめてください。",
    "exception.fiscal_year": "「還付年度」は2000〜2099の西暦で入力してください。",
    "exception.whole_yen": "「{field}」は1円以上の金額を入力してください。",
    "exception.text_too_long": "「{field}」は2000文字以内で入力してください。",
    "exception.match_later": "この消込の後に、同じ入金が別の処理で確報になっています。"
    "先にそちらを取り消してください。",
    "exception.match_elsewhere": "この入金の速報は債権 {number} に消し込まれています。"
    "同じ債権を選ぶか、先にその消込を取り消してください。",
    "exception.already_matched": "この入金の確報はすでに消し込まれています。"
    "この速報は「処理不要」にしてください。",
    "payment.channel": "「収納チャネル」を選んでください(窓口・金融機関窓口・口座振込・差引納付)。",
    "payment.amount": "「金額」は1円以上の金額を半角数字で入力してください。",
    "payment.future": "「納付日」に未来の日付は入力できません。",
    "payment.slip_format": "「納付書番号」は 2600000123400300-0 の形で入力してください"
    "(入力値: {slip_number})。",
    "payment.claim_closed": "債権 {number} は「{status}」で、納付書も無効のため記録できません。",
    "export.future": "「収入日」に未来の日付は選べません。",
    "office.period": "「期間」の終わりが始まりより前になっています。",
    "office.period_long": "「期間」は1年以内で指定してください。",
    "office.no_agent": "その収納代行会社は登録されていません。",
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
    if group == "adapter" and str(code) not in LABELS["adapter"]:
        # An office profile's own label; the adapters are loaded by then (the code came from a stored file).
        from adapters import adapter_labels

        return adapter_labels().get(str(code), "その他")
    return LABELS.get(group, {}).get(str(code), "その他")


def actor_text(label: str | None) -> str:
    """Who did something, as a clerk reads it: a staff user's name (``user:sato`` → sato), the scheduler
    and other system processes → 「自動処理」, the command line → 「管理コマンド」, an agent client →
    「収納代行会社」, a sign-in attempt → 「ログイン前」; nothing → ``—``."""
    if not label:
        return "—"
    kind, sep, name = str(label).partition(":")
    if not sep:
        return str(label)
    kinds = {"system": "自動処理", "cli": "管理コマンド", "client": "収納代行会社", "anonymous": "ログイン前"}
    return kinds.get(kind, name)


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

"""What the office reads: the daily report, arrears, the accounting export and the office reports.

Above casework: it reads every feature's tables and writes only its own export records.
"""

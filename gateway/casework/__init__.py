"""What needs a human: the exceptions queue (resolutions, four-eyes approvals, refunds recorded) and
money that reached the office outside agent data (counter and bank receipts).

Above issuing, intake and money.
"""

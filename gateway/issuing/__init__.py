"""Claims and slips: recording decided claims, issuing, reissuing and voiding slips, their documents
and print batches.

Inside: ``overview`` and ``printing`` above ``documents`` above ``slips`` above ``claims``. Below it:
money and access.
"""

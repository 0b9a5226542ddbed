"""Payment-slip barcodes: the 44-digit convenience-store data, its GS1-128 symbol and the payer-page QR code.

Pure code: no Flask, no database. ``barcodes.cvs`` is the data, ``barcodes.render`` the symbol,
``barcodes.qr`` the QR code.
"""

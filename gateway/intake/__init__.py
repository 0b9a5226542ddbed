"""Settlement data coming in: files (ingest), agents' signed posts, the inbox folder, fetch from the
agents' servers and the archive of originals. It stores records; reconciliation (:mod:`gateway.money`)
decides what they mean.

Inside: ``fetch`` above ``inbox`` above ``posts`` above ``ingest`` above ``archive``.
"""

"""Report intake: admit, locate, classify, attach or create, roll up, answer.

Two front doors, one report (``single``) and a batch (``batch``), share one admission
(``admit``: who may file what, idempotency, locks) and one set of decisions (``rules``,
pure) over two stores (``session_store`` per query, ``batch_store`` in memory).
"""

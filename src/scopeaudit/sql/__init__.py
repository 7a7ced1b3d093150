"""The audit's aggregate as SQL: route matching compiled to expressions (``routing``), key
identity and token scrubbing (``identity``), and the warehouse query (``warehouse``);
``regex`` writes portable regular expressions, ``unicode`` holds Python's
``isspace``/``isdigit`` tables they use.

Every query is an sqlglot expression tree rendered per dialect; identifiers and literals
are quoted by sqlglot, never pasted into SQL text.
"""

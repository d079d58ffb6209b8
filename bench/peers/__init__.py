"""PeerCheck side by side with peer rule engines (GoRules ZEN, Rego, CEL) on the same rules:
``python -m bench.peers`` (``make bench-peers``). The rule sources for each engine live here."""

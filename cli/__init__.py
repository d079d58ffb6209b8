"""``peercheck``, the command line: evaluate a profile, list the rules, validate, batch, serve.

Exit codes (every command): 0 fine; 1 an open finding at or above ``--fail-on``; 2 invalid
input or usage; 3 PeerCheck itself could not run (bad rule data, engine unavailable).
"""

OK, FINDINGS, INVALID, FAILED = 0, 1, 2, 3

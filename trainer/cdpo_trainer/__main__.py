"""Entry point: `python -m cdpo_trainer` serves the JSON Lines protocol on stdin/stdout."""

from __future__ import annotations

import sys

from .ops import all_ops
from .server import Server, die_with_parent


def main() -> None:
    die_with_parent()
    # Anything printed by libraries must not corrupt the protocol stream: keep the real stdout
    # for protocol lines only and send stray prints to stderr.
    protocol_out = sys.stdout
    sys.stdout = sys.stderr
    server = Server(all_ops(), out=protocol_out)
    # When the parent closes stdin the loop ends after the request in hand; when the parent
    # dies, die_with_parent() ends the process even mid-op.
    server.serve(sys.stdin)


if __name__ == "__main__":
    main()

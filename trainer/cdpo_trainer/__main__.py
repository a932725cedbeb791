"""Entry point: `python -m cdpo_trainer [--test-ops]` serves the JSON Lines protocol on stdin/stdout.

`python -m cdpo_trainer --accelerate CONFIG [--test-ops]` checks an accelerate config and starts
the trainer's ranks with it (serve/launch.py); each rank then runs this entry point without the
flag, and serve/ranks.py lets rank 0 speak the protocol for all of them.
"""

from __future__ import annotations

import sys

from cdpo_trainer.serve.ops import production_ops
from cdpo_trainer.serve.server import Server, die_with_parent


def main(argv: list[str]) -> None:
    die_with_parent()
    if "--accelerate" in argv:
        from cdpo_trainer.serve.launch import main as launch

        launch(argv)
        return
    from cdpo_trainer.train import distributed

    world = distributed.init()
    ops = production_ops()
    if "--test-ops" in argv:
        from cdpo_trainer.serve.test_ops import OPS as TEST_OPS

        ops.update(TEST_OPS)
    # Anything printed by libraries must not corrupt the protocol stream: keep the real stdout
    # for protocol lines only and send stray prints to stderr.
    protocol_out = sys.stdout
    sys.stdout = sys.stderr
    if world.size > 1:
        from cdpo_trainer.serve.ranks import serve_ranks

        serve_ranks(ops, world, protocol_out, sys.stdin)
        return
    server = Server(ops, out=protocol_out)
    # When the parent closes stdin the loop ends after the request in hand; when the parent
    # dies, die_with_parent() ends the process even mid-op.
    server.serve(sys.stdin)


if __name__ == "__main__":
    main(sys.argv[1:])

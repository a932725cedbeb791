"""Executes one notebook headlessly with nbclient and writes the executed copy.

Used by scripts/notebooks.ts. On a failing cell it still writes the partially executed
notebook, prints the notebook, the cell's number and source and the error, and exits 1.

    python scripts/execute_notebook.py IN.ipynb OUT.ipynb [--html OUT.html] [--timeout S] [--cwd DIR]
"""

from __future__ import annotations

import argparse
import os
import sys
from queue import Empty

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import (
    CellExecutionComplete,
    CellExecutionError,
    CellTimeoutError,
    DeadKernelError,
)
from nbclient.util import ensure_async


class LateOutputClient(NotebookClient):
    """A NotebookClient that keeps outputs the Deno kernel publishes after reporting idle.

    The kernel can send a cell's result just after its idle status; nbclient stops listening at
    idle and would drop it (and, polling for the next cell, ignores messages of other cells).
    Here every executed cell stays addressable by its request id, and after idle the client
    drains the channel briefly, routing late outputs to the cell they belong to.
    """

    grace_seconds = 0.3

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._cells_by_msg_id: dict[str, tuple] = {}

    async def _async_poll_output_msg(self, parent_msg_id, cell, cell_index):
        self._cells_by_msg_id[parent_msg_id] = (cell, cell_index)
        while True:
            msg = await ensure_async(self.kc.iopub_channel.get_msg(timeout=None))
            if self._route(msg, parent_msg_id):
                break
        # Drain what arrives shortly after idle (late results of this or earlier cells).
        while True:
            try:
                msg = await ensure_async(self.kc.iopub_channel.get_msg(timeout=self.grace_seconds))
            except Empty:
                return
            self._route(msg, None)

    def _route(self, msg, current_msg_id) -> bool:
        """Processes `msg` for the cell it belongs to; True when the current cell completed."""
        target = self._cells_by_msg_id.get(msg["parent_header"].get("msg_id"))
        if target is None:
            return False
        try:
            self.process_message(msg, target[0], target[1])
        except CellExecutionComplete:
            return msg["parent_header"].get("msg_id") == current_msg_id
        return False


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("notebook")
    ap.add_argument("out")
    ap.add_argument("--html")
    ap.add_argument("--timeout", type=int, default=900)
    ap.add_argument("--cwd", help="folder the kernel runs in (default: the notebook's)")
    args = ap.parse_args()

    nb = nbformat.read(args.notebook, as_version=4)
    kernel = nb.metadata.get("kernelspec", {}).get("name", "cdpo-deno")
    # The kernel runs in the notebook's folder, so its relative imports of ../src resolve.
    client = LateOutputClient(
        nb,
        kernel_name=kernel,
        timeout=args.timeout,
        resources={"metadata": {"path": args.cwd or os.path.dirname(os.path.abspath(args.notebook))}},
    )
    failed: str | None = None
    try:
        client.execute()
    except CellExecutionError as e:
        failed = str(e)
    except (CellTimeoutError, DeadKernelError) as e:
        failed = f"{type(e).__name__}: {e}"
    finally:
        nbformat.write(nb, args.out)
        if args.html:
            from nbconvert import HTMLExporter

            body, _ = HTMLExporter().from_notebook_node(nb)
            with open(args.html, "w", encoding="utf-8") as f:
                f.write(body)
    if failed is not None:
        index = next(
            (i for i, c in enumerate(nb.cells) if c.cell_type == "code" and _has_error(c)),
            None,
        )
        where = f"cell {index + 1}" if index is not None else "a cell"
        print(f"{args.notebook}: {where} failed:\n{failed}", file=sys.stderr)
        return 1
    return 0


def _has_error(cell) -> bool:
    return any(o.get("output_type") == "error" for o in cell.get("outputs", []))


if __name__ == "__main__":
    sys.exit(main())

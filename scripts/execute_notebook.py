"""Executes one notebook headlessly with nbclient and writes the executed copy.

Used by scripts/notebooks.ts. On a failing cell it still writes the partially executed
notebook, prints the notebook, the cell's number and source and the error, and exits 1.

    python scripts/execute_notebook.py IN.ipynb OUT.ipynb [--html OUT.html] [--timeout S] [--cwd DIR]
"""

from __future__ import annotations

import argparse
import os
import sys

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError


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
    client = NotebookClient(
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

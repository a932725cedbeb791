#!/usr/bin/env bash
# GPU check of the torch LM backend (see scripts/gpu_check.py): tokens/s and MFU of a random
# ~1B Llama in bf16. Needs python with torch + transformers; no internet, no Deno.
#   scripts/gpu-check.sh            on a CUDA machine
#   scripts/gpu-check.sh --tiny     on CPU, a few seconds (exercised by the trainer tests)
# PYTHON overrides the interpreter.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
export PYTHONPATH="$root/trainer${PYTHONPATH:+:$PYTHONPATH}"
exec "${PYTHON:-python3}" "$here/gpu_check.py" "$@"

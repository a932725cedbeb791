"""Starting the trainer's ranks from an accelerate config: `python -m cdpo_trainer --accelerate CONFIG`.

The config is checked first; a config the machine cannot run (more processes than devices, a
launcher that is not installed, several machines) is one line on stderr and exit code 2, before
anything starts. `--check` stops there (the kit runs it before starting the trainer, so the line
reaches the user as the error's message). Then this process becomes the launcher:

  * GPU configs (MULTI_GPU, FSDP, DEEPSPEED): `accelerate launch --config_file CONFIG -m cdpo_trainer`;
  * MULTI_CPU: accelerate's launcher starts CPU ranks only through mpirun; the kit starts them with
    torchrun (the launcher `accelerate launch` itself uses for GPUs) and every rank joins as a
    CPU rank (gloo) through Accelerator, as accelerate's MULTI_CPU mode does;
  * NO, or one process: the plain single-process trainer.

The launcher replaces this process (exec), so the kit's child is the launcher itself, and the
ranks' parent; every rank asks Linux to kill it when that parent dies (server.die_with_parent).
"""

from __future__ import annotations

import json
import os
import socket
import sys
from pathlib import Path

GPU_TYPES = ("MULTI_GPU", "FSDP", "DEEPSPEED")
KNOWN_TYPES = ("NO", "MULTI_CPU", *GPU_TYPES)


class LaunchError(ValueError):
    """A config this machine cannot run; the message is the one line the user sees."""


def read_config(path: Path) -> dict:
    if not path.is_file():
        raise LaunchError(f"Cannot launch the trainer: accelerate config {path} does not exist")
    text = path.read_text(encoding="utf-8")
    try:
        if path.suffix == ".json":
            cfg = json.loads(text)
        else:
            import yaml  # a dependency of accelerate

            cfg = yaml.safe_load(text)
    except Exception as e:  # noqa: BLE001 - any parse failure is the same user error
        raise LaunchError(f"Cannot launch the trainer: accelerate config {path} is not valid YAML/JSON ({e})".replace("\n", " ")) from e
    if not isinstance(cfg, dict):
        raise LaunchError(f"Cannot launch the trainer: accelerate config {path} must be a mapping of settings")
    return cfg


def check(path: Path, cuda_devices: int, cpu_cores: int) -> dict:
    """The config when this machine can run it; else LaunchError naming the setting and the fix."""
    cfg = read_config(path)
    kind = str(cfg.get("distributed_type", "NO"))
    if kind not in KNOWN_TYPES:
        raise LaunchError(
            f"Cannot launch the trainer: accelerate config {path} has distributed_type {kind}; "
            f"the trainer runs {', '.join(KNOWN_TYPES)}"
        )
    n = cfg.get("num_processes", 1)
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise LaunchError(f"Cannot launch the trainer: accelerate config {path} has num_processes {n!r}; expected an integer >= 1")
    if int(cfg.get("num_machines", 1) or 1) > 1:
        raise LaunchError(
            f"Cannot launch the trainer: accelerate config {path} names {cfg['num_machines']} machines; "
            "the trainer's ranks must share one machine (one stdin, one run directory)"
        )
    on_cpu = bool(cfg.get("use_cpu", False)) or kind == "MULTI_CPU"
    if kind in GPU_TYPES and not on_cpu:
        ids = cfg.get("gpu_ids", "all")
        usable = cuda_devices if ids in (None, "all") else min(cuda_devices, len(str(ids).split(",")))
        if n > usable:
            raise LaunchError(
                f"Cannot launch the trainer: accelerate config {path} names {n} processes (num_processes) "
                f"for {kind}, but this machine has {usable} usable CUDA device{'s' if usable != 1 else ''}; "
                f"set num_processes to at most {usable}, or use a MULTI_CPU config"
            )
        if kind == "DEEPSPEED":
            try:
                import deepspeed  # noqa: F401
            except ImportError as e:
                raise LaunchError(
                    f"Cannot launch the trainer: accelerate config {path} uses DeepSpeed, which is not "
                    "installed in the trainer's environment (pip install deepspeed on a CUDA machine)"
                ) from e
    elif on_cpu and n > cpu_cores:
        raise LaunchError(
            f"Cannot launch the trainer: accelerate config {path} names {n} CPU processes (num_processes), "
            f"but this machine has {cpu_cores} cores; set num_processes to at most {cpu_cores}"
        )
    return cfg


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def command(path: Path, cfg: dict, extra: list[str], cpu_cores: int) -> tuple[list[str], dict[str, str]]:
    """The launcher's argv and environment."""
    python = sys.executable
    n = int(cfg.get("num_processes", 1))
    kind = str(cfg.get("distributed_type", "NO"))
    env = dict(os.environ)
    if n == 1 or kind == "NO":
        return [python, "-m", "cdpo_trainer", *extra], env
    if kind == "MULTI_CPU" or cfg.get("use_cpu"):
        env["ACCELERATE_USE_CPU"] = "true"
        env.setdefault("OMP_NUM_THREADS", str(max(1, cpu_cores // n)))
        return [
            python, "-m", "torch.distributed.run", "--nproc_per_node", str(n), "--master_addr", "127.0.0.1",
            "--master_port", str(_free_port()), "-m", "cdpo_trainer", *extra,
        ], env
    return [
        python, "-m", "accelerate.commands.launch", "--config_file", str(path),
        "--main_process_port", str(_free_port()), "-m", "cdpo_trainer", *extra,
    ], env


def main(argv: list[str]) -> None:
    i = argv.index("--accelerate")
    if i + 1 >= len(argv):
        print("Cannot launch the trainer: --accelerate needs the path of an accelerate config", file=sys.stderr)
        sys.exit(2)
    path = Path(argv[i + 1])
    rest = [a for k, a in enumerate(argv) if k not in (i, i + 1)]
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    try:
        import torch

        cfg = check(path, torch.cuda.device_count(), cores)
    except LaunchError as e:
        print(str(e), file=sys.stderr)
        sys.exit(2)
    if "--check" in rest:
        return
    argv_out, env = command(path, cfg, [a for a in rest if a == "--test-ops"], cores)
    sys.stdout.flush()
    os.execvpe(argv_out[0], argv_out, env)

"""Trainer ops: filled in by its capability."""

OPS: dict = {}

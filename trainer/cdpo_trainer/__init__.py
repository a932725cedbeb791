"""The cdpo-kit trainer: a long-lived subprocess driven over JSON Lines (see serve/protocol.py)."""

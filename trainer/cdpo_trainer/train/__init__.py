"""Training: one loop, schedule and checkpointing for SFT and the preference objectives."""

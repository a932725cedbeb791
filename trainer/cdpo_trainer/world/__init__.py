"""The embedded world's policy: corpus reading, tokenizer, model shape, pretraining."""

"""The `torch` backend of the kit's LanguageModel: scoring, distributions and seeded sampling."""

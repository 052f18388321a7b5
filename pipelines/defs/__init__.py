"""Definitions loaded by `pipelines.definitions` (every module here is scanned)."""

"""Helpers shared by the pipeline definitions."""

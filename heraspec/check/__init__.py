"""Checks across a validated spec and the code it names (they may import spec/ and python/; only
pipeline.py and cli.py import them)."""

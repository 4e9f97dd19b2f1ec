"""Spokes: one module per kind of external system. I/O only; mapping lives in `mappings`."""

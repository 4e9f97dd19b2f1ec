"""Waybill: integration middleware for logistics, on Apache Airflow.

Layers, from the bottom (checked by the import contract in pyproject.toml):
core < canonical < edi < {connectors, mappings, store} < flows < ops.
"""

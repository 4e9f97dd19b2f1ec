"""Translators: pure functions between source/target records and canonical entities. No I/O."""

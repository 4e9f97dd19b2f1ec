"""Read models: what each target needs, read from the hub as typed objects."""

"""The hub: canonical customer model, its store, the flows that move data and the customer insights."""

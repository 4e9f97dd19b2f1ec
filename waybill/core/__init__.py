"""Core: errors, structured logging and configuration. Imports nothing else of Waybill."""

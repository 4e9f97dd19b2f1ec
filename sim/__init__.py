"""Faithful local stand-ins for the systems Waybill talks to, for the main job and the tests."""

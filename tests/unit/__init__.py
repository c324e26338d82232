"""Offline, fast unit tests."""

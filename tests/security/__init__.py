"""Hostile and careless input: each test feeds one and asserts the bounded outcome."""

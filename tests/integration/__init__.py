"""Tests on the real embedded model, real stores and real processes."""

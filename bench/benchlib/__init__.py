"""Dovetail's LMTP benchmark harness (Python 3 stdlib only). Entry point: bench/run."""

"""Masthead: an open-source self-media news platform."""

__version__ = "0.1.0"

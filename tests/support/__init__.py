"""Tooling shared by the tests and docs/make_screenshots.py; not part of the installed package."""

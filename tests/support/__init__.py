"""Test and screenshot tooling (not part of the installed package): a headless browser, window reads, reference grids."""

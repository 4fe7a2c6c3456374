"""The headless command-line interface: check, export, train, eval."""

"""Development tools, not part of the installed product: the Bot API emulator (tests,
benchmarks) and the offline console built on it. Importable from a clone of the
repository (the project folder on `sys.path`); `pip install .` does not ship them."""

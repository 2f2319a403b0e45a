"""The command line, `python -m gd_core run|sweep`: `main.py` parses and runs a comparison, `sweep.py` the
batch-size sweep, `io.py` holds what both share (flags, checks, errors, progress, Ctrl-C)."""

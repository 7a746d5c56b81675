"""Runs and their storage: the runs folder, its files, live progress, curves, caches and who may do what."""

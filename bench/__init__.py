"""Benchmarks of mnistviz against the notebook's own code, measured in the same run."""

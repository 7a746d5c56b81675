"""The analyses: shift maps, the Shift Lab's measures and grid, saved models' answers for a drawing."""

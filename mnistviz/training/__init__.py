"""Training and where it runs: one fit, the job queue, the training processes and their executors."""

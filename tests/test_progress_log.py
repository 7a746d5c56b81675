"""progress.jsonl: what a training process writes, and the dashboard's copy that follows it."""

import json

from mnistviz.runs.progress import ProgressFollower, ProgressLog, RunProgress


def follow(tmp_path, epochs: int = 2) -> tuple[ProgressLog, ProgressFollower]:
    path = tmp_path / "progress.jsonl"
    return ProgressLog("r", epochs, path), ProgressFollower(path, RunProgress("r", epochs))


def test_the_dashboards_copy_is_the_training_processes_progress(tmp_path):
    trainer, dashboard = follow(tmp_path)
    trainer.start(steps_per_epoch=2, check_samples=100)
    trainer.record_batch(1, 50, 2.0, 0.2)
    trainer.record_batch(2, 50, 1.0, 0.6)
    assert not dashboard.update() and dashboard.progress.snapshot().status == "queued"  # nothing flushed yet
    trainer.flush()
    trainer.record_epoch({"epoch": 1, "loss": 1.5, "accuracy": 0.4, "val_accuracy": 0.5})
    trainer.finish("finished", test_accuracy=0.9)
    trainer.flush()
    assert dashboard.update() and dashboard.ended
    assert len(dashboard.delays) == 2 and all(0 <= delay < 5 for delay in dashboard.delays)
    mine, theirs = trainer.snapshot(), dashboard.progress.snapshot()
    for name in ("status", "epoch", "step", "samples_seen", "epochs", "test_accuracy", "steps_per_epoch"):
        assert getattr(theirs, name) == getattr(mine, name), name
    assert theirs.check_seconds == mine.check_seconds  # the validation time measured where it ran
    assert [row["loss"] for row in theirs.batches] == [2.0, 1.0]


def test_a_run_of_many_tiny_batches_logs_only_the_rows_it_keeps(tmp_path, monkeypatch):
    monkeypatch.setattr("mnistviz.runs.progress.MAX_BATCH_ROWS", 8)
    trainer, dashboard = follow(tmp_path, epochs=1)
    trainer.start(steps_per_epoch=1000)
    for step in range(1, 1001):  # a student's batch size of 1
        trainer.record_batch(step, 1, 1.0 / step, 0.5)
        if step % 100 == 0:
            trainer.flush()
            dashboard.update()
    lines = (tmp_path / "progress.jsonl").read_text().splitlines()
    assert len(lines) < 100  # not a thousand: the log stays small whatever the batch size
    mine, theirs = trainer.snapshot(), dashboard.progress.snapshot()
    assert theirs.batches == mine.batches and len(theirs.batches) <= 8
    assert (theirs.step, theirs.samples_seen) == (mine.step, mine.samples_seen) == (1000, 1000)


def test_a_half_written_line_waits_and_a_forged_one_is_skipped(tmp_path):
    trainer, dashboard = follow(tmp_path)
    trainer.start(steps_per_epoch=4)
    trainer.flush()
    path = tmp_path / "progress.jsonl"
    with path.open("a") as log:
        log.write('["batch", 1, {"epoch": 1}, "many", 5]\n')  # a step that is no number
        log.write('["batch", 1, "not a row", 1, 5]\n')
        log.write("{not json\n")
        log.write('["finish", 1, "finished", "", 0.5')  # still being written: no newline yet
    assert not dashboard.update()
    snapshot = dashboard.progress.snapshot()
    assert snapshot.status == "running" and snapshot.batches == () and snapshot.samples_seen == 0
    with path.open("a") as log:
        log.write("]\n")
    assert dashboard.update() and dashboard.progress.snapshot().status == "finished"
    assert json.loads(path.read_text().splitlines()[0])[0] == "start"

"""The class-queue benchmark on a tiny configuration: thirty presses of the preset train each run once."""

from bench import class_queue


def test_a_class_pressing_the_preset_trains_each_run_once_and_the_table_says_so(synthetic_variants):
    (result,) = class_queue.run(sessions=8, distinct=2, train_size=600, modes=["local"])
    assert result.asked == 8 * 4 + 2 and result.trained == 4 + 2
    assert result.seconds > 0 and result.lag and all(0 <= lag < 5 for lag in result.lag)
    table = class_queue.table([result])
    assert "| local | 8 | 34 | 6 |" in table

"""The sentences the pages say are written from the numbers on screen."""

from mnistviz.show import story

MATRIX = {
    ("mlp", "centered"): {"centered": 0.981, "offset": 0.142},
    ("cnn", "centered"): {"centered": 0.991, "offset": 0.156},
    ("mlp", "offset"): {"centered": 0.83, "offset": 0.884},
    ("cnn", "offset"): {"centered": 0.97, "offset": 0.978},
}


def test_home_says_what_the_matrix_shows_and_nothing_it_does_not():
    first, second, third = story.home_sentences(MATRIX, {("cnn", "offset"): 158_858, ("mlp", "offset"): 1_738_890})
    assert "the MLP reads 98% of centered test digits but 14%" in first
    assert "the CNN 99% but 16%" in first and "only the 28x28 window" in first and "Shift Lab tests" in first
    assert "the CNN reads 98% of them and the MLP 88%, with 11x fewer weights for the CNN" in second
    assert "Shift Lab" in third
    assert "slides the same small filters" not in " ".join([first, second, third])


def test_home_without_runs_says_what_to_train_not_a_claim():
    sentences = story.home_sentences({("mlp", "centered"): MATRIX[("mlp", "centered")]})
    assert "Train the MLP and the CNN on centered digits" in sentences[0]
    assert "Train both on offset digits" in sentences[1]
    assert not any("%" in sentence for sentence in sentences)


BUDGET = "after 2 epochs on 16,000 centered digits (one seed)"


def row(model: str, corner: float, consistency: float = 0.95, centered: float = 0.97, augment: int = 0) -> dict:
    return {"model": model, "augment": augment, "corner": corner, "consistency": consistency, "centered": centered}


def test_the_labs_findings_name_its_own_numbers_its_budget_and_the_one_variable():
    rows = [
        row("MLP", 0.1, 0.9),
        row("CNN", 0.07, 0.95),
        row("CNN-field", 0.12, 0.955),
        row("CNN-gmp", 0.7, 0.97),
        row("CNN-gmp-same", 0.99, 0.95, 0.98),
        row("CNN-gmp-same-blur", 0.97, 0.995, 0.94),
        row("CNN", 0.5, 0.99, augment=2),  # augmented: not compared
    ]
    reach = {"notebook": 0.71, "same": 1.0}
    window, head, padding, blur, ranking = story.lab_sentences(rows, BUDGET, ink_in_window=0.35, reach=reach)
    assert all(s.startswith("After 2 epochs on 16,000 centered digits") for s in story.lab_sentences(rows, BUDGET))
    assert "sees only the 28x28 window, keeps 7%" in window and "35% of a digit's ink" in window
    assert "the only change: its input" in window and "it keeps 12%: it saw the digit and still failed" in window
    assert "flattens keeps 12%" in head and "global max pooling head 70%" in head
    assert "the head, their only difference, raised the share kept by 58 points" in head
    assert "decided" not in head  # 70% kept is still below the lab's 85%: the gmp CNN too fails in the corner
    assert "keeps 70% in the corner with the notebook's `valid` padding and 99% with `same`" in padding
    assert "border effect on every side" in padding and "ink reaches it 71% as strongly as in the middle" in padding
    assert "cut off" not in " ".join([window, head, padding]) and "partly unseen" not in padding
    assert "from 95.0% to 99.5%" in blur and "on centered digits from 98.0% to 94.0%" in blur
    assert "bought consistency and cost accuracy, the opposite of the gain Zhang reports" in blur
    assert ranking.index("CNN-gmp-same-blur (99.5%") < ranking.index("CNN-gmp (97.0%") < ranking.index("MLP (90.0%")
    assert "Zhang's consistency" in ranking and "within what" in ranking  # CNN and CNN-field half a point apart
    assert story.lab_sentences([], BUDGET) == []


def test_the_head_decided_only_when_one_reads_the_corner_and_the_other_does_not():
    head = story.lab_sentences([row("CNN-field", 0.15), row("CNN-gmp", 0.95)], BUDGET)[0]
    assert "the head, their only difference, decided whether the CNN could read a moved digit" in head


def test_a_cause_is_claimed_only_when_the_numbers_on_screen_show_it_in_either_direction():
    rows = [
        row("CNN", 0.35),
        row("CNN-field", 0.9),
        row("CNN-gmp", 0.96, 0.970),
        row("CNN-gmp-same", 0.91, 0.969, 0.95),
        row("CNN-gmp-same-blur", 0.97, 0.982, 0.94),
    ]
    window, head, padding, blur, _ = story.lab_sentences(rows, BUDGET)
    assert "it keeps 90%." in window and "still failed" not in window  # kept more than the lab's 85%
    assert "decided" not in head and "too close to name the head" in head
    assert "about as much, so in these runs the border effect did not matter" in padding  # 5 points: sampling
    assert "did not change consistency beyond sampling and left accuracy where it was" in blur  # 1.3 and 1 points
    reverse = story.lab_sentences([row("CNN-gmp", 0.97), row("CNN-gmp-same", 0.6)], BUDGET)[0]
    assert "here `valid` padding kept more, the reverse of the border effect" in reverse
    flatter = story.lab_sentences([row("CNN-field", 0.9), row("CNN-gmp", 0.5)], BUDGET)[0]
    assert "lowered it by 40 points" in flatter and "raised" not in flatter
    robust_cnn = {**MATRIX, ("cnn", "centered"): {"centered": 0.99, "offset": 0.9}}
    first = story.home_sentences(robust_cnn)[0]
    assert "the CNN 99% but 90%." in first and "window" not in first
    weak_offset = {**MATRIX, ("mlp", "offset"): {"centered": 0.2, "offset": 0.25}}
    second = story.home_sentences(weak_offset)[1]
    assert "the MLP 25%." in second and "learned to read them" not in second


def test_the_points_the_head_added_are_the_difference_of_the_percentages_shown():
    head = story.lab_sentences([row("CNN-field", 0.084), row("CNN-gmp", 0.7196)], BUDGET)[0]
    assert "keeps 8%" in head and "head 72%" in head and "raised the share kept by 64 points" in head


def test_the_matrixs_numbers_name_the_runs_they_come_from():
    from types import SimpleNamespace

    from mnistviz.learning.spec import RunSpec

    runs = {
        ("cnn", "offset"): SimpleNamespace(spec=RunSpec("cnn", "offset", seed=2), epochs_done=3),
        ("mlp", "centered"): SimpleNamespace(spec=RunSpec("mlp", "centered", train_size=20_000), epochs_done=1),
    }
    assert story.matrix_budget(runs) == (
        "One run each: MLP on centered digits, 1 epoch on 20,000 digits, seed 0; "
        "CNN on offset digits, 3 epochs on 60,000 digits, seed 2."
    )
    assert story.matrix_budget({}) is None

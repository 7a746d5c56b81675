"""The sentences the pages say are written from the numbers on screen."""

from mnistviz import story

MATRIX = {
    ("mlp", "centered"): {"centered": 0.981, "offset": 0.142},
    ("cnn", "centered"): {"centered": 0.991, "offset": 0.156},
    ("mlp", "offset"): {"centered": 0.83, "offset": 0.884},
    ("cnn", "offset"): {"centered": 0.97, "offset": 0.978},
}


def test_home_says_what_the_matrix_shows_and_nothing_it_does_not():
    first, second, third = story.home_sentences(MATRIX, {("cnn", "offset"): 158_858, ("mlp", "offset"): 1_738_890})
    assert "the MLP reads 98% of centered test digits but 14%" in first
    assert "the CNN 99% but 16%" in first and "Flatten" in first
    assert "the CNN reads 98% of them and the MLP 88%, with 11x fewer weights for the CNN" in second
    assert "Shift Lab" in third
    assert "slides the same small filters" not in " ".join([first, second, third])


def test_home_without_runs_says_what_to_train_not_a_claim():
    sentences = story.home_sentences({("mlp", "centered"): MATRIX[("mlp", "centered")]})
    assert "Train the MLP and the CNN on centered digits" in sentences[0]
    assert "Train both on offset digits" in sentences[1]
    assert not any("%" in sentence for sentence in sentences)


def test_the_labs_findings_name_its_own_numbers():
    rows = [
        {"model": "MLP", "augment": 0, "corner": 0.1, "consistency": 0.9},
        {"model": "CNN", "augment": 0, "corner": 0.12, "consistency": 0.95},
        {"model": "CNN-gmp", "augment": 0, "corner": 0.7, "consistency": 0.97},
        {"model": "CNN-gmp-same", "augment": 0, "corner": 0.99, "consistency": 0.98},
        {"model": "CNN", "augment": 2, "corner": 0.5, "consistency": 0.99},  # augmented: not compared
    ]
    head, padding, ranking = story.lab_sentences(rows)
    assert "keeps 12% of its accuracy" in head and "it keeps 99%" in head
    assert "notebook's padding keeps 70%" in padding
    assert "the head, not the convolutions, decided" in head and "partly unseen" in padding
    assert ranking.index("CNN-gmp-same (98.0%") < ranking.index("CNN-gmp (97.0%") < ranking.index("CNN (95.0%")
    assert ranking.index("CNN (95.0%") < ranking.index("MLP (90.0%") and "within what" not in ranking
    assert story.lab_sentences([]) == []


def test_a_cause_is_claimed_only_when_the_numbers_on_screen_show_it():
    rows = [
        {"model": "CNN", "augment": 0, "corner": 0.85, "consistency": 0.972},
        {"model": "CNN-gmp", "augment": 0, "corner": 0.96, "consistency": 0.970},
        {"model": "CNN-gmp-same", "augment": 0, "corner": 0.97, "consistency": 0.969},
    ]
    head, padding, ranking = story.lab_sentences(rows)
    assert "keeps 85%" in head and "it keeps 97%" in head and "decided" not in head
    assert "keeps 96%, about as much" in padding and "partly unseen" not in padding
    assert "within what 1,000 test digits can tell" in ranking  # 0.1 points apart: no real order
    robust_cnn = {**MATRIX, ("cnn", "centered"): {"centered": 0.99, "offset": 0.9}}
    first = story.home_sentences(robust_cnn)[0]
    assert "the CNN 99% but 90%." in first and "Flatten" not in first
    weak_offset = {**MATRIX, ("mlp", "offset"): {"centered": 0.2, "offset": 0.25}}
    second = story.home_sentences(weak_offset)[1]
    assert "the MLP 25%." in second and "the data they saw" not in second

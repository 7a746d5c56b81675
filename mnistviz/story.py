"""What the pages say in words, written from the runs on screen: no claim the data do not show.

The Home page's explanation used to say a CNN survives a move because its filters slide and pool;
the notebook's own CNN trained on centered digits fails on moved ones like the MLP does. These
sentences are built from the 2x2 matrix and the lab's measures, and say only what those numbers do.
"""

from itertools import pairwise

CENTERED, OFFSET = "centered", "offset"
CLEAR = 0.2  # a gap in accuracy (or in the share kept) this large is no accident of sampling or of a seed
PADDING_GAP = 0.03  # the corner kept with notebook padding this much below same padding: the cut-off edge shows
SAMPLING = 0.01  # consistencies closer than a point are within what the lab's 1,000 test digits can tell apart


def _pct(value: float) -> str:
    return f"{value:.0%}"


def home_sentences(matrix: dict, params: dict | None = None) -> list[str]:
    """Home's explanation from the 2x2 matrix ({(arch, data): {"centered": acc, "offset": acc}}).

    `params` ({(arch, data): parameter count}) adds how many weights each offset model needed.
    Without the runs a sentence needs, it says what to train to see it.
    """
    params = params or {}
    sentences = []
    mlp, cnn = matrix.get(("mlp", CENTERED)), matrix.get(("cnn", CENTERED))
    if mlp and cnn:
        sentence = (
            f"Trained on centered digits, the MLP reads {_pct(mlp['centered'])} of centered test digits but "
            f"{_pct(mlp['offset'])} of digits placed anywhere, and the CNN {_pct(cnn['centered'])} but "
            f"{_pct(cnn['offset'])}"
        )
        if cnn["centered"] - cnn["offset"] >= CLEAR:
            sentence += (
                ": its convolutions move with the digit, but its Flatten layer then reads them at fixed places, "
                "so a moved digit is a new pattern for it too"
            )
        sentences.append(sentence + ".")
    else:
        sentences.append(
            "Train the MLP and the CNN on centered digits to see how each reads digits that moved: "
            "the 2x2 matrix below fills in as they finish."
        )
    mlp_off, cnn_off = matrix.get(("mlp", OFFSET)), matrix.get(("cnn", OFFSET))
    if mlp_off and cnn_off:
        sentence = (
            f"Trained on digits placed anywhere, the CNN reads {_pct(cnn_off['offset'])} of them and the MLP "
            f"{_pct(mlp_off['offset'])}"
        )
        cnn_params, mlp_params = params.get(("cnn", OFFSET)), params.get(("mlp", OFFSET))
        if cnn_params and mlp_params:
            sentence += f", with {mlp_params / cnn_params:.0f}x fewer weights for the CNN"
        learned = [
            (trained_offset, matrix.get((arch, CENTERED)))
            for arch, trained_offset in (("mlp", mlp_off), ("cnn", cnn_off))
        ]
        if all(centered and off["offset"] - centered["offset"] >= CLEAR for off, centered in learned):
            sentence += ": what made them robust is the data they saw"
        sentences.append(sentence + ".")
    else:
        sentences.append("Train both on offset digits to see what training on moved digits changes.")
    sentences.append(
        "Why, and what else makes a model survive a move (a global pooling head, padding, blur pooling, "
        "shifted training digits), is what the Shift Lab takes apart."
    )
    return sentences


def lab_sentences(rows: list[dict]) -> list[str]:
    """The lab's findings from its table rows ({"model", "augment", "centered", "corner", "consistency"}).

    `corner` is the accuracy with the digits moved to the lab's corner, as a share of `centered`.
    Only models trained on centered digits (augment 0) are compared; nothing is said without them.
    """
    plain = {row["model"]: row for row in rows if not row["augment"]}
    sentences = []
    if "CNN" in plain and "CNN-gmp-same" in plain:
        flat, pooled = plain["CNN"], plain["CNN-gmp-same"]
        sentence = (
            f"Trained on centered digits, the notebook's CNN keeps {_pct(flat['corner'])} of its accuracy when "
            f"the digit moves to the corner; with a global max pooling head and `same` padding it keeps "
            f"{_pct(pooled['corner'])}"
        )
        if pooled["corner"] - flat["corner"] >= CLEAR:
            sentence += ": the head, not the convolutions, decided where the CNN could look"
        sentences.append(sentence + ".")
    if "CNN-gmp" in plain and "CNN-gmp-same" in plain:
        notebook_padding, same = plain["CNN-gmp"]["corner"], plain["CNN-gmp-same"]["corner"]
        sentence = f"The same head with the notebook's padding keeps {_pct(notebook_padding)}"
        if same - notebook_padding >= PADDING_GAP:
            sentence += (
                ": its `valid` convolutions and pooling cut off the field's last rows and columns, so a digit "
                "there is partly unseen"
            )
        else:
            sentence += ", about as much: in these runs the edge its `valid` convolutions cut off did not matter"
        sentences.append(sentence + ".")
    ranked = sorted(plain.values(), key=lambda row: row["consistency"], reverse=True)
    if len(ranked) >= 2:
        close = any(a["consistency"] - b["consistency"] < SAMPLING for a, b in pairwise(ranked))
        sentences.append(
            "A one-pixel move changes the answer least for "
            + ", then ".join(f"{row['model']} ({row['consistency']:.1%} unchanged)" for row in ranked)
            + (" (less than a point apart is within what 1,000 test digits can tell)" if close else "")
            + "."
        )
    return sentences

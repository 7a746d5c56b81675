"""What the pages say in words, written from the runs on screen: no claim the data do not show.

The Home page's explanation used to say a CNN survives a move because its filters slide and pool;
the notebook's own CNN trained on centered digits fails on moved ones like the MLP does. These
sentences are built from the 2x2 matrix and the lab's measures, and say only what those numbers do.
"""

CENTERED, OFFSET = "centered", "offset"


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
        sentences.append(
            f"Trained on centered digits, the MLP reads {_pct(mlp['centered'])} of centered test digits but "
            f"{_pct(mlp['offset'])} of digits placed anywhere, and the CNN {_pct(cnn['centered'])} but "
            f"{_pct(cnn['offset'])}: its convolutions move with the digit, but its Flatten layer then reads "
            "them at fixed places, so a moved digit is a new pattern for it too."
        )
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
        sentences.append(sentence + ": what made them robust is the data they saw.")
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
        sentences.append(
            f"Trained on centered digits, the notebook's CNN keeps {_pct(flat['corner'])} of its accuracy when "
            f"the digit moves to the corner; with a global max pooling head and `same` padding it keeps "
            f"{_pct(pooled['corner'])}: the head, not the convolutions, decided where the CNN could look."
        )
    if "CNN-gmp" in plain and "CNN-gmp-same" in plain:
        sentences.append(
            f"The same head with the notebook's padding keeps {_pct(plain['CNN-gmp']['corner'])}: its `valid` "
            "convolutions and pooling cut off the field's last rows and columns, so a digit there is partly unseen."
        )
    ranked = sorted(plain.values(), key=lambda row: row["consistency"], reverse=True)
    if len(ranked) >= 2:
        sentences.append(
            "A one-pixel move changes the answer least for "
            + ", then ".join(f"{row['model']} ({_pct(row['consistency'])} unchanged)" for row in ranked)
            + "."
        )
    return sentences

"""What the pages say in words, written from the runs on screen: no claim the data do not show.

A sentence that names a cause compares two models that differ in that one variable (`lab.COMPARISONS`)
and says which; every Lab sentence names the budget its numbers were bought with. The notebook's
models trained on centered digits see only the 28x28 window, so Home, which has only those, names no
cause for their failure beyond what the window shows; the Lab's controls name the rest.
"""

from itertools import pairwise

from mnistviz.analysis.lab import CORNER, KEEPS

CENTERED, OFFSET = "centered", "offset"
CLEAR = 0.2  # a gap in the share kept this large is no accident of sampling or of a seed
CORNER_GAP = 0.08  # the share kept in the corner comes from a few hundred digits a shift: about two standard errors
SAMPLING = 0.025  # shares of the lab's 1,000 test digits closer than this are within about two standard errors


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
                ": both see only the 28x28 window in the middle of the field, and a digit placed elsewhere is "
                "partly or wholly outside it. Whether the CNN's Flatten head fails even when given the whole field "
                "is what the Shift Lab tests"
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
            sentence += (
                ": given the whole field and trained on digits placed anywhere, both learned to read them there "
                "(the same models trained on centered digits could not)"
            )
        sentences.append(sentence + ".")
    else:
        sentences.append("Train both on offset digits to see what training on moved digits changes.")
    sentences.append(
        "Why, and what else makes a model survive a move (a global pooling head, padding, blur pooling, "
        "shifted training digits), is what the Shift Lab takes apart."
    )
    return sentences


def matrix_budget(runs: dict) -> str | None:
    """What the 2x2 matrix's numbers were bought with: each cell's run, its epochs, digits and seed.

    `runs` is `notebook.best_runs` ({(arch, data): RunRecord}) for the cells the sentences quote.
    """
    parts = [
        f"{arch.upper()} on {data} digits, {record.epochs_done} epoch{'' if record.epochs_done == 1 else 's'} on "
        f"{record.spec.train_size:,} digits, seed {record.spec.seed}"
        for (arch, data), record in sorted(runs.items(), key=lambda item: (item[0][1], item[0][0]))
        if record.spec is not None
    ]
    return "One run each: " + "; ".join(parts) + "." if parts else None


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def lab_sentences(rows: list[dict], budget: str, ink_in_window: float | None = None, reach: dict | None = None):
    """The lab's findings from its summary rows (`lab.summarize`: "model", "augment", "corner", "consistency",
    "centered"), each comparing two models that differ in one variable and naming it, each with `budget`.

    `corner` is the accuracy with the digits moved to the lab's corner, as a share of the accuracy in the
    middle. `ink_in_window` is the share of a test digit's ink left in the 28x28 window at the corner;
    `reach` ({"notebook": share, "same": share}) how strongly a digit's ink at the corner reaches the head,
    as a share of the middle's (`measures.ink_reach_at`). Only models trained on centered digits (augment 0)
    are compared. A cause is named only for a gap beyond sampling, in whichever direction it points.
    """
    plain = {row["model"]: row for row in rows if not row["augment"]}
    where = f"to the corner ({CORNER[0]:+d}, {CORNER[1]:+d})"
    sentences = []
    if "CNN" in plain and "CNN-field" in plain:
        window, field = plain["CNN"]["corner"], plain["CNN-field"]["corner"]
        sentence = (
            f"{_capital(budget)}, the notebook's CNN, which sees only the 28x28 window, keeps {_pct(window)} of its "
            f"accuracy when the digit moves {where}"
        )
        if ink_in_window is not None:
            sentence += f"; only {_pct(ink_in_window)} of a digit's ink is left in its window there"
        sentence += (
            ". Given the whole field instead (the only change: its input, with the notebook's layers for a 56x56 "
            f"input), it keeps {_pct(field)}"
        )
        if field < KEEPS:
            sentence += ": it saw the digit and still failed"
        sentences.append(sentence + ".")
    if "CNN-field" in plain and "CNN-gmp" in plain:
        flat, pooled = plain["CNN-field"]["corner"], plain["CNN-gmp"]["corner"]
        gap = round(pooled, 2) - round(flat, 2)  # the difference of the percentages as the sentence shows them
        sentence = (
            f"{_capital(budget)}, both seeing the whole field, the CNN that flattens keeps {_pct(flat)} and the CNN "
            f"with a global max pooling head {_pct(pooled)}"
        )
        if gap >= CLEAR and pooled >= KEEPS > flat:
            sentence += ": the head, their only difference, decided whether the CNN could read a moved digit"
        elif gap >= CLEAR:
            sentence += f": the head, their only difference, raised the share kept by {round(100 * gap)} points"
        elif gap <= -CLEAR:
            sentence += (
                f": here the global pooling head, their only difference, lowered it by {round(-100 * gap)} points"
            )
        else:
            sentence += ": in these runs too close to name the head as the cause"
        sentences.append(sentence + ".")
    if "CNN-gmp" in plain and "CNN-gmp-same" in plain:
        valid, same = plain["CNN-gmp"]["corner"], plain["CNN-gmp-same"]["corner"]
        sentence = (
            f"{_capital(budget)}, the gmp CNN keeps {_pct(valid)} in the corner with the notebook's `valid` padding "
            f"and {_pct(same)} with `same` padding (their only difference)"
        )
        if same - valid >= CORNER_GAP:
            sentence += (
                ": with `valid` convolutions a pixel near any edge of the field reaches the head through far fewer "
                "paths than one inside, a border effect on every side (Kayhan & van Gemert 2020)"
            )
            if reach:
                sentence += (
                    f"; at the corner a digit's ink reaches it {_pct(reach['notebook'])} as strongly as in the "
                    f"middle, against {_pct(reach['same'])} with `same` padding"
                )
        elif valid - same >= CORNER_GAP:
            sentence += ": here `valid` padding kept more, the reverse of the border effect"
        else:
            sentence += ": about as much, so in these runs the border effect did not matter"
        sentences.append(sentence + ".")
    if "CNN-gmp-same" in plain and "CNN-gmp-same-blur" in plain:
        sentences.append(_blur_sentence(plain["CNN-gmp-same"], plain["CNN-gmp-same-blur"], budget))
    ranked = sorted(plain.values(), key=lambda row: row["consistency"], reverse=True)
    if len(ranked) >= 2:
        close = any(a["consistency"] - b["consistency"] < SAMPLING for a, b in pairwise(ranked))
        sentences.append(
            f"{_capital(budget)}, two random shifts of a digit give the same answer (Zhang's consistency) most often "
            "for "
            + ", then ".join(f"{row['model']} ({row['consistency']:.1%})" for row in ranked)
            + (" (neighbours closer than 2.5 points are within what 1,000 test digits can tell)" if close else "")
            + "."
        )
    return sentences


def _blur_sentence(max_pooled: dict, blurred: dict, budget: str) -> str:
    """What blur pooling bought or cost here: consistency, and accuracy on centered digits (where Zhang reports a gain)."""
    gained = blurred["consistency"] - max_pooled["consistency"]
    lost = max_pooled["centered"] - blurred["centered"]
    sentence = (
        f"{_capital(budget)}, blur pooling (the only change from CNN-gmp-same) moved consistency from "
        f"{max_pooled['consistency']:.1%} to {blurred['consistency']:.1%} and accuracy on centered digits from "
        f"{max_pooled['centered']:.1%} to {blurred['centered']:.1%}"
    )
    if gained >= SAMPLING:
        bought = "it bought consistency"
    elif gained <= -SAMPLING:
        bought = "it lowered consistency"
    else:
        bought = "it did not change consistency beyond sampling"
    if lost >= SAMPLING:
        cost = "and cost accuracy, the opposite of the gain Zhang reports on ImageNet"
    elif lost <= -SAMPLING:
        cost = "and raised accuracy, as Zhang reports on ImageNet"
    else:
        cost = "and left accuracy where it was"
    return sentence + f": here {bought} {cost}."

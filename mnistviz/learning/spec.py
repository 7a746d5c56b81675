"""What a training run is: a frozen, validated spec with the notebook's values as defaults."""

import math
from dataclasses import asdict, dataclass, field, fields

from mnistviz.errors import MnistvizError
from mnistviz.learning.field import DIGIT, FIELD, MAX_SHIFT, VARIANTS, VIEWS
from mnistviz.show import text

ARCHITECTURES = ("mlp", "cnn")
DEFAULT_BATCH_SIZE = {"mlp": 1024, "cnn": 256}
FULL_TRAIN_SIZE = 60000

LIMITS = {
    "epochs": (1, 200),
    "batch_size": (1, 8192),
    "learning_rate": (1e-6, 1.0),
    "train_size": (10, FULL_TRAIN_SIZE),
    "seed": (0, 2**31 - 1),
    "augment_shift": (0, MAX_SHIFT),
    "patience": (0, 50),
}
LR_SCHEDULES = ("constant", "cosine")
HEADS = ("flatten", "gmp", "gap")  # a CNN's head: the notebook's Flatten, or global max / average pooling
HEAD_WORDS = {"gmp": "global max pooling", "gap": "global average pooling"}
PADDINGS = ("notebook", "same")  # the notebook's (`same` only in the first convolution on 28x28), or `same` everywhere
POOLS = ("max", "blur")  # a CNN's pooling: max, or anti-aliased max (max with stride 1, a binomial blur, subsampling)
CNN_CHOICES = {"head": HEADS, "padding": PADDINGS, "pool": POOLS}


@dataclass(frozen=True)
class RunSpec:
    """One training run. `batch_size=None` means the notebook's value for the architecture.

    `lr_schedule="cosine"` decays the learning rate to zero over the run; `patience` > 0 stops
    early once validation accuracy has not improved for that many epochs, keeping the best weights.
    `head`, `padding` and `pool` vary a CNN (the Shift Lab's variables; the first of each is the
    notebook's). `input` is what the model is given: the central 28x28 "window" (the notebook's
    centered models) or the whole 56x56 "field". A model trained on offset digits, or a CNN with a
    global pooling head, always takes the field; the MLP and the flatten CNN trained on centered
    digits take the window unless asked for the field (the Shift Lab's fair test of the head). On the
    field, centered training digits sit in its middle. `None` means the notebook's choice, and is what
    any input that is no choice becomes.
    """

    arch: str
    data: str
    epochs: int = 20
    batch_size: int | None = None
    learning_rate: float = 1e-3
    train_size: int = FULL_TRAIN_SIZE
    seed: int = 0
    augment_shift: int = 0
    lr_schedule: str = "constant"
    patience: int = 0
    head: str = "flatten"
    padding: str = "notebook"
    pool: str = "max"
    input: str | None = None
    name: str = field(default="", compare=False)

    def __post_init__(self):
        if self.arch not in ARCHITECTURES:
            raise MnistvizError(f"architecture must be one of {', '.join(ARCHITECTURES)}, not '{self.arch}'")
        if self.data not in VARIANTS:
            raise MnistvizError(f"data must be one of {', '.join(VARIANTS)}, not '{self.data}'")
        for setting, choices in CNN_CHOICES.items():
            value = getattr(self, setting)
            if value not in choices:
                raise MnistvizError(f"{setting} must be one of {', '.join(choices)}, not {str(value)[:40]!r}")
            if self.arch != "cnn" and value != choices[0]:
                raise MnistvizError(f"{setting} '{value}' is a CNN setting: an MLP has no convolutions")
        if self.batch_size is None:
            object.__setattr__(self, "batch_size", DEFAULT_BATCH_SIZE[self.arch])
        self._settle_input()
        if self.lr_schedule not in LR_SCHEDULES:
            raise MnistvizError(
                f"learning-rate schedule must be one of {', '.join(LR_SCHEDULES)}, not '{self.lr_schedule}'"
            )
        for name in ("epochs", "batch_size", "train_size", "seed", "augment_shift", "patience"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise MnistvizError(f"{name.replace('_', ' ')} must be a whole number, not {str(value)[:40]}")
            low, high = LIMITS[name]
            if not low <= value <= high:
                shown = str(value) if len(str(value)) <= 15 else f"{value:.3g}"  # a forged 1e308 is 309 digits
                raise MnistvizError(f"{name.replace('_', ' ')} must be between {low} and {high}, not {shown}")
        rate = self.learning_rate
        try:
            usable = not isinstance(rate, bool) and isinstance(rate, int | float) and math.isfinite(float(rate))
        except OverflowError:  # an integer of hundreds of digits
            usable = False
        if not usable:
            raise MnistvizError(f"learning rate must be a number, not {str(rate)[:40]!r}")
        low, high = LIMITS["learning_rate"]
        if not low <= rate <= high:
            raise MnistvizError(f"learning rate must be between {low:g} and {high:g}, not {rate:g}")
        object.__setattr__(self, "learning_rate", float(rate))
        if self.batch_size > self.train_size:
            raise MnistvizError(
                f"batch size ({self.batch_size}) cannot be larger than the training set ({self.train_size} digits)"
            )
        if not isinstance(self.name, str):
            raise MnistvizError("a run name must be text of at most 80 characters")
        object.__setattr__(self, "name", text.clean(self.name))  # no control or bidi characters, ever
        if len(self.name) > 80:
            raise MnistvizError("a run name must be text of at most 80 characters")

    def _settle_input(self) -> None:
        """Keep `input` only where it is a choice that differs from the notebook's (the field for a window model).

        So one model has one spec however it was asked for, and changing another setting never leaves a stale
        input behind. A window for a model that can only take the field is refused.
        """
        choosable = self.data == "centered" and self.head == "flatten"
        if self.input is not None and self.input not in VIEWS:
            raise MnistvizError(f"input must be one of {', '.join(VIEWS)}, not {str(self.input)[:40]!r}")
        if self.input == "window" and not choosable:
            reason = "a model trained on offset digits" if self.data == "offset" else "a CNN with a global pooling head"
            raise MnistvizError(
                f"input 'window' is only for models trained on centered digits with a flatten head: {reason} "
                "takes the whole 56x56 field"
            )
        object.__setattr__(self, "input", "field" if choosable and self.input == "field" else None)

    @property
    def view(self) -> str:
        """What the model sees of the field: the central "window" (the notebook's centered models) or the whole "field"."""
        return "window" if self.data == "centered" and self.head == "flatten" and self.input is None else "field"

    @property
    def image_size(self) -> int:
        return DIGIT if self.view == "window" else FIELD

    @property
    def model_name(self) -> str:
        """The model without its data: 'MLP', 'CNN', or the variant, e.g. 'CNN-gmp-same-blur'."""
        changed = [self.head] if self.head != "flatten" else []
        changed += [self.padding] if self.padding != "notebook" else []
        changed += [self.pool] if self.pool != "max" else []
        return "-".join([self.arch.upper(), *changed])

    @property
    def model_words(self) -> str:
        """The model in words with its short name beside them, e.g. 'CNN with global max pooling (CNN-gmp)'."""
        changed = [HEAD_WORDS[self.head]] if self.head != "flatten" else []
        changed += ["same padding"] if self.padding == "same" else []
        changed += ["blur pooling"] if self.pool == "blur" else []
        if not changed:
            return self.model_name
        listed = changed[0] if len(changed) == 1 else ", ".join(changed[:-1]) + " and " + changed[-1]
        return f"{self.arch.upper()} with {listed} ({self.model_name})"

    @property
    def field_control(self) -> bool:
        """A model the notebook gives the window, given the whole field instead (the Shift Lab's fair test of the head)."""
        return self.input == "field"

    @property
    def notebook_model(self) -> bool:
        """The notebook's own model on its own data: no Shift Lab variant, no shift augmentation, its own input."""
        return self.model_name == self.arch.upper() and not self.augment_shift and not self.field_control

    @property
    def label(self) -> str:
        """A short human name: the user's, or e.g. 'CNN offset'."""
        return self.name or f"{self.model_name} {self.data}" + (" on the field" if self.field_control else "")

    @property
    def summary(self) -> str:
        """The settings in one line, as the Train page lists them: what a reader needs to repeat the run."""
        parts = [
            f"{self.epochs} epoch{'' if self.epochs == 1 else 's'}",
            f"batch {self.batch_size}",
            f"learning rate {self.learning_rate:g}" + (" (cosine decay)" if self.lr_schedule == "cosine" else ""),
            f"{self.train_size:,} training digits",
            f"seed {self.seed}",
        ]
        if self.arch == "cnn" and self.model_name != "CNN":
            parts.append(f"{self.head} head, {self.padding} padding, {self.pool} pooling")
        if self.field_control:
            parts.append("given the whole 56x56 field")
        if self.augment_shift:
            parts.append(f"shifted up to {self.augment_shift} px")
        if self.patience:
            parts.append(f"early stop after {self.patience} epochs without progress")
        return " · ".join(parts)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_form(cls, **values) -> "RunSpec":
        """A spec from a form's numbers (floats for whole numbers too); anything out of range or not a number is refused."""
        whole = {"epochs", "batch_size", "train_size", "seed", "augment_shift", "patience"}
        for name in sorted(whole & values.keys()):
            value = values[name]
            low, high = LIMITS[name]
            if value is None:  # an empty input, or one Streamlit could not take
                raise MnistvizError(f"{name.replace('_', ' ')} is empty: type a whole number from {low} to {high}")
            if isinstance(value, float) and math.isfinite(value) and value.is_integer():
                values[name] = int(value)
        rate = values.get("learning_rate")
        if isinstance(rate, str):
            try:
                if len(rate) > 40:  # no number needs more; refused whole, never cut
                    raise ValueError
                values["learning_rate"] = float(rate.strip())
            except ValueError:
                raise MnistvizError(f"learning rate must be a number like 0.001, not {rate[:40]!r}") from None
        elif isinstance(rate, int) and not isinstance(rate, bool):
            values["learning_rate"] = float(rate)
        return cls(**values)

    @classmethod
    def default(cls, name: str):
        """The default of one setting (the notebook's value): what the CLI and the Train form start from."""
        return cls.__dataclass_fields__[name].default

    @classmethod
    def from_dict(cls, values: dict) -> "RunSpec":
        """Rebuild a spec from JSON, ignoring keys a newer version may have added."""
        known = {f.name for f in fields(cls)}
        return cls(**{key: value for key, value in values.items() if key in known})

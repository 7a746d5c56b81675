"""mnistviz: why a CNN recognises a moved digit and an MLP does not, by experiment."""

from mnistviz.errors import MnistvizError

__all__ = ["MnistvizError"]

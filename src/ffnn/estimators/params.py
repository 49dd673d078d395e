"""Argument checks of the estimators' parameters, and scikit-learn's spellings.

Every check raises ``ValueError`` naming the parameter and its valid values, as
scikit-learn's own parameter validation does. :data:`SKLEARN_SPELLINGS` maps the
parameter names of ``sklearn.neural_network.MLPClassifier`` that ffnn spells otherwise
to the message that says how ffnn spells them.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
from sklearn.utils.validation import check_array

from .. import _validation as validation

__all__ = ["SKLEARN_SPELLINGS", "SklearnSpellings", "check_bool", "check_choice", "check_number",
           "check_sample_weight", "refuse_sklearn_names"]

#: scikit-learn's MLP parameter → how ffnn spells it.
SKLEARN_SPELLINGS = {
    "learning_rate_init": "learning_rate=<float> (ffnn's learning_rate is the step size)",
    "momentum": "solver_options={'momentum': <float>} (with solver='sgd')",
    "nesterovs_momentum": "solver_options={'nesterov': True} (with solver='sgd')",
    "beta_1": "solver_options={'beta_1': <float>} (with solver='adam')",
    "beta_2": "solver_options={'beta_2': <float>} (with solver='adam')",
    "epsilon": "solver_options={'epsilon': <float>} (with solver='adam')",
    "power_t": "a learning-rate callback of ffnn.callbacks in callbacks=[...]",
    "max_fun": "solver_options={'max_fun': <int>} (with solver='lbfgs')",
}


def refuse_sklearn_names(cls: type, names: Any) -> None:
    """TypeError if ``names`` (keyword arguments) holds a scikit-learn parameter name
    that ffnn spells otherwise, naming ffnn's spelling."""
    for name in names:
        if name in SKLEARN_SPELLINGS:
            raise TypeError(f"{cls.__name__} has no parameter {name!r} (scikit-learn's "
                            f"spelling); in ffnn use {SKLEARN_SPELLINGS[name]}")


class SklearnSpellings:
    """Mixin: refuse scikit-learn's spellings of ffnn's parameters with a message that
    names ffnn's. ``__init__`` would only say "unexpected keyword argument", and its
    signature must list the parameters alone (scikit-learn's ``get_params`` reads it),
    so the check runs in ``__new__``; the mixin comes after the class defining
    ``__init__`` so that ``inspect.signature`` still finds ``__init__``."""

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        refuse_sklearn_names(cls, kwargs)
        return super().__new__(cls)


def _parameter(name: str) -> str:
    return f"the {name!r} parameter"


def check_choice(name: str, value: Any, choices: list[str]) -> str:
    """``value`` lower-cased if it is one of ``choices`` (case-insensitive), else ValueError."""
    lowered = value.lower() if isinstance(value, str) else value
    return validation.check_choice(_parameter(name), lowered, choices)


def check_number(
    name: str, value: Any, kind: type = numbers.Real, low: float = 0.0, strict: bool = False
) -> Any:
    """``value`` if it is a finite ``kind`` (Real or Integral) ≥ ``low`` (> if ``strict``).

    Always ValueError, as scikit-learn's parameter validation (a wrong type is a wrong
    value of the parameter), with its bound in the message."""
    if kind is numbers.Integral:
        ok = validation.is_int(value)
    else:
        ok = isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))
    ok = ok and np.isfinite(value) and (value > low if strict else value >= low)
    if not ok:
        what = "an integer" if kind is numbers.Integral else "a finite number"
        raise ValueError(f"{_parameter(name)} must be {what} {'>' if strict else '>='} "
                         f"{low:g}; got {value!r}")
    return value


def check_bool(name: str, value: Any) -> bool:
    """``value`` if it is True or False, else a ValueError."""
    try:
        return validation.check_bool(_parameter(name), value)
    except TypeError as exc:
        raise ValueError(str(exc)) from None


def check_sample_weight(sample_weight: Any, X: np.ndarray) -> np.ndarray:
    """``sample_weight`` as a finite, non-negative float array of shape (n_samples,) in
    X's dtype, not all zero (a scalar weighs every sample the same), with scikit-learn's public
    ``check_array`` for the conversion; ValueError naming the problem otherwise."""
    n = X.shape[0]
    if isinstance(sample_weight, numbers.Number):
        return np.full(n, sample_weight, dtype=X.dtype)
    sw = check_array(sample_weight, ensure_2d=False, dtype=X.dtype, order="C",
                     input_name="sample_weight")
    if sw.ndim != 1 or sw.shape[0] != n:
        raise ValueError(f"sample_weight must have shape ({n},), got {sw.shape}")
    if (sw < 0).any():
        raise ValueError("sample_weight must be non-negative (negative values are not "
                         "allowed)")
    if n and not sw.any():
        raise ValueError("sample_weight is zero for every sample: there is nothing to fit")
    return sw

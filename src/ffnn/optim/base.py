"""The contract every optimiser follows, first-order or full-batch: :class:`BaseOptimizer`.

Two families derive from it, each with one method the training loop calls:

* :class:`~ffnn.optim.first_order.Optimizer` (SGD, Adam, RMSprop, ...): ``step()`` after
  each mini-batch's ``backward()``, updating every parameter from its ``grad``;
* :class:`~ffnn.optim.full_batch.FullBatchOptimizer` (L-BFGS, Levenberg–Marquardt,
  Bayesian regularisation): ``step_problem(problem)`` once per epoch on the whole
  training problem.

``fit`` dispatches on the family (``isinstance``), never on attributes.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

import numpy as np

from .._validation import check_int
from ..autodiff.tensor import Tensor
from .schedules import constructor_args

__all__ = ["MAX_COUNT", "BaseOptimizer", "GlobalValueAttribute"]

#: Step and iteration counts are bounded well below where ``beta ** t`` and friends lose
#: meaning; a count read from a state_dict beyond it is corruption, not progress.
MAX_COUNT = 2**62

GlobalValue = float | None


class BaseOptimizer:
    """Base class of every optimiser: parameters, options, counters and their state.

    Parameters
    ----------
    params : iterable of Tensor, optional
        The parameters to optimise; if given, :meth:`build` is called.

    Notes
    -----
    The contract shared by both families (see the module docstring):

    * A subclass sets the class attribute ``name`` (its registry name) and stores each
      constructor argument under an attribute of the same name before calling
      ``super().__init__`` (which may call :meth:`build`); the arguments form
      :meth:`get_config`, and :meth:`from_config` rebuilds an unbuilt copy.
    * ``build(params)`` attaches the parameters (leaf Tensors, each once) and resets all
      state: per-parameter state (first-order), ``iterations`` and the
      **optimiser-level state**, a dict of named scalars that belongs to the optimiser
      as a whole (Nadam's μ product, Levenberg–Marquardt's damping μ). A subclass
      declares it with :meth:`_initial_global` (names and initial values; ``None`` is
      allowed for "not yet known") and :meth:`_check_global` (the valid range of each).
    * ``begin_fit()`` is called by ``fit`` before the first epoch of every run.
    * ``state_dict()``/``load_state_dict()`` save and restore the options,
      ``iterations`` and the optimiser-level state (``"global"``); the families add
      their own entries. Loading checks every value (:meth:`_check_global`) and
      changes nothing unless everything validates, so training continues
      bit-identically from a saved state and never from a corrupt one.
    """

    name: ClassVar[str] = ""

    def __init__(self, params: Iterable[Tensor] | None = None) -> None:
        self.iterations = 0
        self._params: tuple[Tensor, ...] = ()
        self.global_state: dict[str, GlobalValue] = dict(self._initial_global())
        if params is not None:
            self.build(params)

    # --------------------------------------------------------------- parameters
    @property
    def params(self) -> tuple[Tensor, ...]:
        """The built parameters (empty before :meth:`build`)."""
        return self._params

    @property
    def built(self) -> bool:
        """Whether :meth:`build` has attached parameters."""
        return bool(self._params)

    def build(self, params: Iterable[Tensor]) -> None:
        """Attach ``params`` and allocate fresh state (resets ``iterations`` to 0).

        Raises
        ------
        TypeError
            If an element is not a :class:`~ffnn.Tensor`.
        ValueError
            If ``params`` is empty, holds a tensor twice or a non-leaf tensor.
        """
        if isinstance(params, Tensor) or not isinstance(params, Iterable):
            raise TypeError(
                f"params must be an iterable of Tensors, got {type(params).__name__} (pass "
                "the learning rate as learning_rate=...)"
            )
        params = tuple(params)
        if not params:
            raise ValueError("the optimizer got an empty parameter list")
        seen: set[int] = set()
        for i, p in enumerate(params):
            if not isinstance(p, Tensor):
                raise TypeError(f"parameter {i} must be an ffnn.Tensor, got {type(p).__name__}")
            if not p.is_leaf:
                raise ValueError(f"parameter {i} is not a leaf tensor; optimise leaves only")
            if id(p) in seen:
                raise ValueError(f"parameter {i} appears more than once in the parameter list")
            seen.add(id(p))
        self._params = params
        self._allocate()

    def _allocate(self) -> None:
        """(Re)allocate the state for the attached parameters (subclasses extend it)."""
        self.iterations = 0
        self.global_state = dict(self._initial_global())

    def _require_built(self) -> tuple[Tensor, ...]:
        if not self._params:
            raise RuntimeError(
                f"{type(self).__name__} has no parameters: pass params to the constructor "
                "or call build(params) first"
            )
        return self._params

    def zero_grad(self) -> None:
        """Set every built parameter's ``grad`` to ``None``."""
        for p in self._params:
            p.grad = None

    def begin_fit(self) -> None:
        """Called by ``fit`` before its first epoch; nothing by default."""

    def estimate_bytes(self, n_params: int, itemsize: int, n_samples: int,
                       n_outputs: int) -> float:
        """The bytes this optimiser allocates to train ``n_params`` parameters of
        ``itemsize`` bytes on ``n_samples`` samples of ``n_outputs`` outputs, beyond the
        parameters, their gradients and the network's activations (its state arrays,
        scratch buffers, matrices); used to refuse a run before it allocates.

        Raises :class:`~ffnn.optim.memory.InsufficientMemoryError` itself when the
        optimiser knows that no way of running fits (Levenberg–Marquardt)."""
        return 0.0

    # --------------------------------------------------- optimiser-level state
    def _initial_global(self) -> Mapping[str, GlobalValue]:
        """Names and initial values of the optimiser-level state (none by default)."""
        return {}

    def _slot_minimum(self, slot: str) -> float | None:
        """The lowest valid value of the per-parameter state array ``slot`` (None: any
        finite value); loading refuses a state array below it."""
        return None

    def _check_global(self, state: Mapping[str, GlobalValue]) -> None:
        """Raise ValueError naming the first value of ``state`` out of its valid range.

        The default accepts any finite float (and ``None`` where the initial value is
        ``None``); subclasses narrow the ranges.
        """
        for key, value in state.items():
            if value is None and self._initial_global().get(key, 0.0) is None:
                continue
            if not isinstance(value, float) or not math.isfinite(value):
                raise ValueError(f"{self.name} state {key!r} must be a finite number, got "
                                 f"{value!r}")

    # ---------------------------------------------------------- serialisation
    def get_config(self) -> dict[str, Any]:
        """Return ``{"name": ..., **options}`` (JSON-serialisable)."""
        config: dict[str, Any] = {"name": self.name}
        for key in constructor_args(type(self)):
            value = getattr(self, key)
            config[key] = value.get_config() if hasattr(value, "get_config") else value
        return config

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> BaseOptimizer:
        """Build an (unbuilt) optimiser from :meth:`get_config`'s output.

        Raises
        ------
        ValueError
            If ``config["name"]`` is not this class's name or an option is unknown.
        """
        config = dict(config)
        name = config.pop("name", cls.name)
        if not isinstance(name, str) or name.lower() != cls.name:
            raise ValueError(f"config name {name!r} does not match optimizer {cls.name!r}")
        valid = constructor_args(cls)
        unknown = sorted(set(config) - set(valid))
        if unknown:
            raise ValueError(
                f"unknown {cls.name} option(s) {unknown}; valid options are: {', '.join(valid)}"
            )
        return cls(**config)

    def state_dict(self) -> dict[str, Any]:
        """A snapshot: ``{"name", "config", "iterations", "global"}`` (families add more)."""
        return {
            "name": self.name,
            "config": self.get_config(),
            "iterations": self.iterations,
            "global": dict(self.global_state),
        }

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        """Restore :meth:`state_dict`'s output into this built optimiser.

        Raises
        ------
        ValueError
            On another optimiser's state, a count that is not an integer in
            [0, 2**62), or an optimiser-level value outside its range (the message names
            it); nothing is changed then.
        """
        self._require_built()
        template, iterations, global_state = self._read_common(state_dict)
        pending = self._validate_own(template, state_dict)
        for key in constructor_args(type(self)):
            setattr(self, key, getattr(template, key))
        self._allocate()
        self._apply_own(pending)
        self.iterations = iterations
        self.global_state = global_state

    def _read_common(self, state_dict: Mapping[str, Any]
                     ) -> tuple[BaseOptimizer, int, dict[str, GlobalValue]]:
        """Validate the keys every optimiser saves; return the option template, the
        iteration count and the optimiser-level state."""
        if state_dict.get("name") != self.name:
            raise ValueError(
                f"state_dict is for optimizer {state_dict.get('name')!r}, not {self.name!r}"
            )
        template = type(self).from_config(state_dict["config"])
        iterations = check_int("the iteration count", state_dict["iterations"], 0, MAX_COUNT - 1)
        saved = state_dict.get("global", {})
        expected = template._initial_global()
        if not isinstance(saved, Mapping) or set(saved) != set(expected):
            keys = sorted(saved) if isinstance(saved, Mapping) else saved
            raise ValueError(f"{self.name} state must hold {sorted(expected)}, got {keys!r}")
        global_state = {k: None if v is None else _as_float(v) for k, v in saved.items()}
        self._check_global(global_state)  # built: ranges may depend on the parameters
        return template, iterations, global_state

    def _validate_own(self, template: Any, state_dict: Mapping[str, Any]) -> Any:
        """Hook: check the family's own entries of ``state_dict`` against ``template`` (an
        unbuilt optimiser with the saved options) and return them ready to apply;
        change nothing (raise ValueError naming the problem)."""
        return None

    def _apply_own(self, pending: Any) -> None:
        """Hook: put what :meth:`_validate_own` returned into the freshly allocated state."""

    def __repr__(self) -> str:
        config = self.get_config()
        config.pop("name")
        args = ", ".join(f"{k}={v!r}" for k, v in config.items())
        return f"{type(self).__name__}({args})"


class GlobalValueAttribute:
    """An attribute kept in the optimiser-level state: ``obj.mu`` reads and writes
    ``obj.global_state["mu"]``, so that it is saved, checked and restored with it."""

    def __init__(self, key: str) -> None:
        self.key = key

    def __get__(self, obj: Any, objtype: Any = None) -> Any:
        return self if obj is None else obj.global_state[self.key]

    def __set__(self, obj: Any, value: GlobalValue) -> None:
        obj.global_state[self.key] = value


def _as_float(value: Any) -> Any:
    """A saved scalar as a float when it is a real number (other values are left for
    :meth:`BaseOptimizer._check_global` to refuse)."""
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        return float(value)
    return value

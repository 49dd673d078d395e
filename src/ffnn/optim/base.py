"""The optimiser contract shared by every training algorithm in :mod:`ffnn.optim`."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from typing import Any, ClassVar

import numpy as np

from .._validation import check_number
from ..autodiff.tensor import Tensor
from . import schedules as _schedules
from .schedules import LearningRateSchedule, constructor_args

__all__ = ["LearningRate", "Optimizer"]

LearningRate = float | LearningRateSchedule


def _as_loss(value: Any) -> float | None:
    """Convert a closure's return value (Tensor, array, number or None) to a float."""
    if value is None:
        return None
    if isinstance(value, Tensor):
        return value.item()
    return float(np.asarray(value).reshape(()))


def _state_entries(state: Any, n: int) -> list[dict[str, np.ndarray]]:
    """The per-parameter state of a state_dict as a list (keys may be ints or strings)."""
    if isinstance(state, Mapping):
        by_index = {int(k): v for k, v in state.items()}
        if sorted(by_index) != list(range(n)):
            raise ValueError(
                f"state_dict holds state for parameters {sorted(by_index)}, but the optimizer "
                f"has {n} parameters"
            )
        state = [by_index[i] for i in range(n)]
    else:
        state = list(state)
        if len(state) != n:
            raise ValueError(
                f"state_dict holds state for {len(state)} parameters, but the optimizer has {n}"
            )
    return [{str(k): np.asarray(a) for k, a in entry.items()} for entry in state]


#: Step and iteration counts are bounded well below where ``beta ** t`` and friends lose
#: meaning; a count read from a state_dict beyond it is corruption, not progress.
_MAX_COUNT = 2**62


def _count(value: Any, what: str) -> int:
    """``value`` as a step or iteration count: an integer (not a bool) in [0, 2**62)."""
    if (isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer))
            or not 0 <= value < _MAX_COUNT):
        raise ValueError(f"{what} must be an integer in [0, 2**62), got {value!r}")
    return int(value)


class Optimizer:
    """Base class of all optimisers: the contract every training algorithm follows.

    A first-order optimiser updates each parameter :math:`p` from its gradient
    :math:`g` = ``p.grad`` at every :meth:`step`, in this order:

    1. **Clipping** (at most one of the three options, Keras' rule), into buffers owned
       by the optimiser -- ``p.grad`` itself is never modified:
       ``clipvalue`` :math:`v`: :math:`g \\leftarrow \\operatorname{clip}(g, -v, v)`
       elementwise; ``clipnorm`` :math:`c`: :math:`g \\leftarrow g \\, c / \\max(\\lVert g
       \\rVert_2, c)` per parameter (Keras); ``global_clipnorm`` :math:`c`: with
       :math:`N = (\\sum_p \\lVert g_p \\rVert_2^2)^{1/2}`, every :math:`g_p \\leftarrow
       g_p \\, c / (N + 10^{-6})` when that factor is below 1
       (``torch.nn.utils.clip_grad_norm_``).
    2. **Decoupled weight decay** :math:`\\lambda` = ``weight_decay``:
       :math:`p \\leftarrow p - \\eta \\lambda p` (Loshchilov & Hutter; Keras applies it
       to every optimiser, PyTorch's ``AdamW`` in the same place). This is *not* the L2
       penalty :math:`g \\leftarrow g + \\lambda p` of ``torch.optim.SGD/Adam``.
    3. **The family's update** (each subclass documents its rule).

    Parameters whose ``grad`` is ``None`` are skipped entirely (no decay, no update,
    their state and step count unchanged). Updates are in place: ``p.data`` keeps its
    identity and dtype (a float32 parameter stays float32), because layers hold the
    same :class:`~ffnn.Tensor` objects.

    Parameters
    ----------
    params : iterable of Tensor, optional
        The parameters to optimise; if given, :meth:`build` is called.
    learning_rate : float or LearningRateSchedule
        :math:`\\eta`, a constant or a schedule evaluated at :attr:`iterations`.
    clipnorm, clipvalue, global_clipnorm : float, optional
        Gradient clipping thresholds (> 0); at most one may be set.
    weight_decay : float, default 0.0
        Decoupled weight decay :math:`\\lambda` (>= 0).

    Notes
    -----
    The contract, for subclasses and for the training loop:

    * ``build(params)`` attaches parameters and allocates per-parameter state in each
      parameter's dtype; building again resets state, step counts and ``iterations``.
    * ``step(closure=None)`` calls ``closure`` first if given (it must re-evaluate the
      loss and the gradients, e.g. ``zero_grad(); loss = f(); loss.backward(); return
      loss``) and returns its value as a float, else ``None``. Full-batch and
      second-order methods (L-BFGS, Levenberg-Marquardt) set the class attribute
      ``full_batch = True`` (the training loop then takes one step per epoch on the
      whole data set) and override :meth:`step`, requiring the closure; they may keep
      one flat parameter vector in their state.
    * A first-order subclass sets ``name`` and implements :meth:`_slots` (the names of
      its state arrays) and :meth:`_update` (one parameter, in place). Its constructor
      arguments are stored under attributes of the same names; they form
      :meth:`get_config`. Options that change the state's layout (e.g. ``momentum``
      switched on, ``amsgrad``, ``centered``) are fixed once built. A subclass stores
      its options before calling ``super().__init__``, which may call :meth:`build`.
    * ``state_dict()``/``load_state_dict()`` save and restore hyper-parameters,
      ``iterations``, per-parameter step counts and state arrays so that training
      continues bit-identically; an optimiser whose state is not per parameter (L-BFGS
      history) overrides both, keeping the ``name``, ``config`` and ``iterations`` keys.
    * ``learning_rate`` may be reassigned at any time (callbacks such as
      ReduceLROnPlateau do); :attr:`current_learning_rate` is the value used by the
      next step.
    """

    name: ClassVar[str] = ""
    full_batch: ClassVar[bool] = False

    def __init__(
        self,
        params: Iterable[Tensor] | None = None,
        learning_rate: LearningRate = 0.01,
        *,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
        weight_decay: float = 0.0,
    ) -> None:
        self.learning_rate = learning_rate
        clips = {"clipnorm": clipnorm, "clipvalue": clipvalue, "global_clipnorm": global_clipnorm}
        given = [k for k, v in clips.items() if v is not None]
        if len(given) > 1:
            raise ValueError(f"set at most one of clipnorm, clipvalue, global_clipnorm: {given}")
        for key, value in clips.items():
            if value is not None:
                clips[key] = check_number(key, value, low_open=True, low=0.0)
        self.clipnorm = clips["clipnorm"]
        self.clipvalue = clips["clipvalue"]
        self.global_clipnorm = clips["global_clipnorm"]
        self.weight_decay = check_number("weight_decay", weight_decay, low=0.0)
        self.iterations = 0
        self._params: tuple[Tensor, ...] = ()
        self._state: list[dict[str, np.ndarray]] = []
        self._steps: list[int] = []
        self._tmp: list[np.ndarray] = []
        self._clip_buf: list[np.ndarray] | None = None
        if params is not None:
            self.build(params)

    # ------------------------------------------------------------ learning rate
    @property
    def learning_rate(self) -> LearningRate:
        """The learning rate: a float or a :class:`LearningRateSchedule` (settable).

        Assigning a number or a schedule (or a schedule's config dict) takes effect at
        the next :meth:`step`.
        """
        return self._learning_rate

    @learning_rate.setter
    def learning_rate(self, value: LearningRate) -> None:
        if isinstance(value, LearningRateSchedule):
            self._learning_rate: LearningRate = value
        elif isinstance(value, Mapping):
            self._learning_rate = _schedules.get(value)
        else:
            self._learning_rate = check_number("learning_rate", value, low=0.0)

    @property
    def current_learning_rate(self) -> float:
        """The learning rate the next :meth:`step` uses (the schedule at ``iterations``)."""
        lr = self._learning_rate
        return lr if isinstance(lr, float) else float(lr(self.iterations))

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
        """(Re)allocate state arrays, scratch buffers and step counts for the params."""
        slots = self._slots()
        self._state = [
            {s: np.full_like(p.data, self._initial_value(s)) for s in slots} for p in self._params
        ]
        self._tmp = [np.empty_like(p.data) for p in self._params]
        self._clip_buf = None
        self._steps = [0] * len(self._params)
        self.iterations = 0

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

    # --------------------------------------------------------------------- step
    def step(self, closure: Callable[[], Any] | None = None) -> float | None:
        """Update every parameter that has a gradient; return the closure's loss if any.

        Parameters
        ----------
        closure : callable, optional
            Called first; re-evaluates the loss and the gradients and returns the loss.

        Returns
        -------
        float or None
            The closure's value as a float, or ``None`` without a closure (or if the
            closure returns ``None``).
        """
        loss = None if closure is None else _as_loss(closure())
        params = self._require_built()
        lr = self.current_learning_rate
        grads = self._gradients(params)
        decay = 1.0 - lr * self.weight_decay
        steps, state, tmp, update = self._steps, self._state, self._tmp, self._update
        for i, p in enumerate(params):
            g = grads[i]
            if g is None:
                continue
            data = p.data
            if decay != 1.0:
                np.multiply(data, decay, out=data)
            steps[i] += 1
            update(data, g, state[i], tmp[i], lr, steps[i])
        self.iterations += 1
        return loss

    def _gradients(self, params: tuple[Tensor, ...]) -> list[np.ndarray | None]:
        """The gradients to use this step, clipped into owned buffers if configured."""
        grads: list[np.ndarray | None] = []
        for i, p in enumerate(params):
            g = p.grad
            if g is not None and g.shape != p.data.shape:
                raise ValueError(
                    f"parameter {i} has shape {p.data.shape} but its grad has shape {g.shape}"
                )
            grads.append(g)
        if self.clipvalue is None and self.clipnorm is None and self.global_clipnorm is None:
            return grads
        if self._clip_buf is None:
            self._clip_buf = [np.empty_like(p.data) for p in params]
        bufs = self._clip_buf
        present = {i: g for i, g in enumerate(grads) if g is not None}
        if self.clipvalue is not None:
            v = self.clipvalue
            for i, g in present.items():
                grads[i] = np.clip(g, -v, v, out=bufs[i])
            return grads
        norms = {i: math.sqrt(float(np.vdot(g, g))) for i, g in present.items()}
        if self.clipnorm is not None:
            c = self.clipnorm
            scales = {i: c / n for i, n in norms.items() if n > c}
        else:
            total = math.sqrt(sum(n * n for n in norms.values()))
            coef = (self.global_clipnorm or 0.0) / (total + 1e-6)
            scales = dict.fromkeys(norms, coef) if coef < 1.0 else {}
        for i, scale in scales.items():
            grads[i] = np.multiply(present[i], scale, out=bufs[i])
        return grads

    # ------------------------------------------------------- subclass interface
    def _slots(self) -> tuple[str, ...]:
        """Names of the per-parameter state arrays (depends on the options)."""
        return ()

    def _initial_value(self, slot: str) -> float:
        """Initial value of the state array ``slot`` (0 unless overridden)."""
        return 0.0

    def _update(
        self,
        p: np.ndarray,
        g: np.ndarray,
        state: dict[str, np.ndarray],
        tmp: np.ndarray,
        lr: float,
        step: int,
    ) -> None:
        """Update one parameter's data ``p`` in place.

        ``g`` must not be written to (it may be the caller's ``p.grad``); ``tmp`` is a
        scratch array of ``p``'s shape and dtype; ``step`` counts this parameter's
        updates, 1 on its first.
        """
        raise NotImplementedError(f"{type(self).__name__} does not implement _update")

    # ---------------------------------------------------------- serialisation
    def get_config(self) -> dict[str, Any]:
        """Return ``{"name": ..., **hyper-parameters}`` (JSON-serialisable).

        A schedule is stored as its own config dict.
        """
        config: dict[str, Any] = {"name": self.name}
        for key in constructor_args(type(self)):
            value = getattr(self, key)
            config[key] = value.get_config() if isinstance(value, LearningRateSchedule) else value
        return config

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Optimizer:
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
        """Return a snapshot: name, config, iteration counts and copies of the state.

        Returns
        -------
        dict
            ``{"name": str, "config": dict, "iterations": int, "steps": list[int],
            "state": {index: {slot: ndarray}}}`` where ``steps[i]`` counts the updates
            of parameter ``i`` and ``state`` is keyed by the parameter's index.
        """
        return {
            "name": self.name,
            "config": self.get_config(),
            "iterations": self.iterations,
            "steps": list(self._steps),
            "state": {i: {k: a.copy() for k, a in s.items()} for i, s in enumerate(self._state)},
        }

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        """Restore :meth:`state_dict`'s output into this built optimiser.

        Hyper-parameters (including the learning rate), counters and state arrays are
        all restored; nothing changes unless everything validates.

        Raises
        ------
        ValueError
            On a different optimiser name, parameter count, state names, shapes or dtypes
            (the message names the parameter index and the mismatch), or a step or
            iteration count that is not an integer in [0, 2**62) (a bool, a float such
            as 2.5, a negative or an absurdly large count).
        """
        params = self._require_built()
        if state_dict.get("name") != self.name:
            raise ValueError(
                f"state_dict is for optimizer {state_dict.get('name')!r}, not {self.name!r}"
            )
        template = type(self).from_config(state_dict["config"])
        steps = state_dict["steps"]
        if isinstance(steps, (str, bytes, Mapping)) or not isinstance(steps, Iterable):
            raise ValueError(f"state_dict steps must be a list of step counts, got {steps!r}")
        steps = [_count(s, f"the step count of parameter {i}") for i, s in enumerate(steps)]
        iterations = _count(state_dict["iterations"], "the iteration count")
        entries = _state_entries(state_dict["state"], len(params))
        if len(steps) != len(params):
            raise ValueError(
                f"state_dict holds step counts for {len(steps)} parameters, but the optimizer "
                f"has {len(params)}"
            )
        slots = set(template._slots())
        for i, (p, entry) in enumerate(zip(params, entries, strict=True)):
            if set(entry) != slots:
                raise ValueError(
                    f"parameter {i}: state_dict has state {sorted(entry)}, expected {sorted(slots)}"
                )
            for k, a in entry.items():
                if a.shape != p.data.shape or a.dtype != p.data.dtype:
                    raise ValueError(
                        f"parameter {i}: state {k!r} has shape {a.shape} and dtype {a.dtype}, "
                        f"but the parameter has shape {p.data.shape} and dtype {p.data.dtype}"
                    )
        for key in constructor_args(type(self)):
            setattr(self, key, getattr(template, key))
        self._allocate()
        for mine, entry in zip(self._state, entries, strict=True):
            for k, a in entry.items():
                np.copyto(mine[k], a)
        self._steps = steps
        self.iterations = iterations

    def __repr__(self) -> str:
        config = self.get_config()
        config.pop("name")
        args = ", ".join(f"{k}={v!r}" for k, v in config.items())
        return f"{type(self).__name__}({args})"

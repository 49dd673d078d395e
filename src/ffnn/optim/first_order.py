"""First-order optimisers: the :class:`Optimizer` contract (per-parameter slots and an
in-place update after every mini-batch's ``backward()``)."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from .._validation import check_int, check_number
from ..autodiff.tensor import Tensor
from . import schedules as _schedules
from .base import MAX_COUNT, BaseOptimizer
from .schedules import LearningRateSchedule

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


class Optimizer(BaseOptimizer):
    """Base class of the first-order optimisers: the contract every one of them follows.

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
    The contract of a first-order subclass (on top of :class:`~.base.BaseOptimizer`'s):

    * it sets ``name`` and implements :meth:`_slots` (the names of its per-parameter
      state arrays, allocated in each parameter's dtype), :meth:`_update` (one
      parameter, in place) and, when a slot has a lower bound (a second moment is
      never negative), :meth:`_slot_minimum`; options that change the state's layout
      (``momentum`` switched on, ``amsgrad``, ``centered``) are fixed once built;
    * optimiser-level state (one value for all parameters, e.g. Nadam's μ product) is
      declared with :meth:`_initial_global` and advanced once per step in
      :meth:`_begin_step`;
    * ``step(closure=None)`` calls ``closure`` first if given (it must re-evaluate the
      loss and the gradients, e.g. ``zero_grad(); loss = f(); loss.backward(); return
      loss``) and returns its value as a float, else ``None``;
    * ``state_dict()`` adds per-parameter step counts and state arrays to the common
      keys, so that training continues bit-identically after ``load_state_dict``;
    * ``learning_rate`` may be reassigned at any time (callbacks such as
      ReduceLROnPlateau do); :attr:`current_learning_rate` is the value used by the
      next step.
    """

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
                clips[key] = check_number(key, value, low=0.0, low_open=True)
        self.clipnorm = clips["clipnorm"]
        self.clipvalue = clips["clipvalue"]
        self.global_clipnorm = clips["global_clipnorm"]
        self.weight_decay = check_number("weight_decay", weight_decay, low=0.0)
        self._state: list[dict[str, np.ndarray]] = []
        self._steps: list[int] = []
        self._tmp: list[np.ndarray] = []
        self._clip_buf: list[np.ndarray] | None = None
        super().__init__(params)

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
            try:
                self._learning_rate = _schedules.get(value)
            except (TypeError, ValueError) as exc:
                raise type(exc)(f"learning_rate: {exc}") from exc
        else:
            self._learning_rate = check_number("learning_rate", value, low=0.0)

    @property
    def current_learning_rate(self) -> float:
        """The learning rate the next :meth:`step` uses (the schedule at ``iterations``)."""
        lr = self._learning_rate
        return lr if isinstance(lr, float) else float(lr(self.iterations))

    def _allocate(self) -> None:
        """(Re)allocate state arrays, scratch buffers and step counts for the params."""
        self._check_options_fit()
        super()._allocate()
        slots = self._slots()
        self._state = [
            {s: np.full_like(p.data, self._initial_value(s)) for s in slots} for p in self._params
        ]
        self._tmp = [np.empty_like(p.data) for p in self._params]
        self._clip_buf = None
        self._steps = [0] * len(self._params)

    def _check_options_fit(self) -> None:
        """Refuse an option (the learning rate or a schedule's, a beta, epsilon, a
        clipping threshold) too large for the parameters' dtype: the update computes in
        that dtype, where it would become inf."""
        dtypes = {p.data.dtype for p in self._params if p.data.dtype.kind == "f"}
        if not dtypes:
            return
        limit = min(float(np.finfo(d).max) for d in dtypes)
        narrow = min(dtypes, key=lambda d: d.itemsize)
        for key, value in self.get_config().items():
            values = value.items() if isinstance(value, Mapping) else [(key, value)]
            for name, v in values:
                if isinstance(v, float) and math.isfinite(v) and abs(v) > limit:
                    where = name if name == key else f"{key} {name}"
                    raise ValueError(f"{self.name} option {where} = {v!r} overflows the "
                                     f"parameters' dtype {narrow} (largest finite value "
                                     f"{limit:.7g})")

    def estimate_bytes(self, n_params: int, itemsize: int, n_samples: int,
                       n_outputs: int) -> float:
        """One array per slot, the scratch array and the clipping buffer, each of the
        parameters' size."""
        clip = self.clipvalue is not None or self.clipnorm is not None or \
            self.global_clipnorm is not None
        return float(n_params) * itemsize * (len(self._slots()) + 1 + int(clip))

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
        self._apply(params, self._gradients(params))
        return loss

    def step_gradients(self, grads: Sequence[np.ndarray | None]) -> None:
        """:meth:`step` with the gradients given, one per parameter in order.

        The entry point of a traced training step (:mod:`ffnn.training.static_step`):
        the clipping, decay and update are those of :meth:`step`, and ``p.grad`` is set
        to each gradient (the array itself: a traced step hands over its own buffers,
        which its next call overwrites, as PyTorch reuses ``.grad``).

        Parameters
        ----------
        grads : sequence of ndarray or None
            One entry per parameter: an array of the parameter's shape, or None for a
            parameter without a gradient (skipped, as in :meth:`step`).

        Raises
        ------
        ValueError
            If the count or a shape does not match the parameters (nothing is changed).
        TypeError
            If an entry is neither an array nor None.
        """
        params = self._require_built()
        grads = list(grads)
        if len(grads) != len(params):
            raise ValueError(f"step_gradients: {len(grads)} gradients for {len(params)} "
                             "parameters")
        for i, (p, g) in enumerate(zip(params, grads, strict=True)):
            if g is None:
                continue
            if not isinstance(g, np.ndarray):
                raise TypeError(f"step_gradients: gradient {i} is a {type(g).__name__}, not "
                                "an array or None")
            if g.shape != p.data.shape:
                raise ValueError(f"parameter {i} has shape {p.data.shape} but its gradient "
                                 f"has shape {g.shape}")
        self._step_checked(grads)

    def _step_checked(self, grads: list[np.ndarray | None]) -> None:
        """:meth:`step_gradients` on gradients known to match (a traced step's own)."""
        params = self._params
        for p, g in zip(params, grads, strict=True):
            p.grad = g
        self._apply(params, self._clip(grads))

    def _apply(self, params: tuple[Tensor, ...], grads: list[np.ndarray | None]) -> None:
        """Decay and update every parameter that has a gradient (clipped already)."""
        lr = self.current_learning_rate
        self._begin_step()
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
            p.mark_modified()  # graphs recorded before this step may not backpropagate
        self.iterations += 1

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
        return self._clip(grads)

    def _clip(self, grads: list[np.ndarray | None]) -> list[np.ndarray | None]:
        """The gradients clipped into owned buffers if a clipping option is set."""
        if self.clipvalue is None and self.clipnorm is None and self.global_clipnorm is None:
            return grads
        params = self._params
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

    def _begin_step(self) -> None:
        """Advance the optimiser-level state once per :meth:`step` (nothing by default);
        called after the gradients are checked, before any parameter is updated."""

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
    def state_dict(self) -> dict[str, Any]:
        """Return a snapshot: the common keys plus step counts and copies of the state.

        Returns
        -------
        dict
            ``{"name": str, "config": dict, "iterations": int, "global": dict,
            "steps": list[int], "state": {index: {slot: ndarray}}}`` where ``steps[i]``
            counts the updates of parameter ``i`` and ``state`` is keyed by the
            parameter's index.
        """
        return {
            **super().state_dict(),
            "steps": list(self._steps),
            "state": {i: {k: a.copy() for k, a in s.items()} for i, s in enumerate(self._state)},
        }

    def _validate_own(self, template: Any, state_dict: Mapping[str, Any]) -> Any:
        """Step counts and state arrays: one per parameter, each slot of the template's
        layout, the parameter's shape and dtype, finite and within the slot's range (a
        negative second moment would turn the weights into NaN at the next step)."""
        params = self._params
        steps = state_dict["steps"]
        if isinstance(steps, (str, bytes, Mapping)) or not isinstance(steps, Iterable):
            raise ValueError(f"state_dict steps must be a list of step counts, got {steps!r}")
        steps = [check_int(f"the step count of parameter {i}", s, 0, MAX_COUNT - 1)
                 for i, s in enumerate(steps)]
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
                _check_slot(i, k, a, p, template._slot_minimum(k))
        return steps, entries

    def _apply_own(self, pending: Any) -> None:
        steps, entries = pending
        for mine, entry in zip(self._state, entries, strict=True):
            for k, a in entry.items():
                np.copyto(mine[k], a)
        self._steps = steps


def _check_slot(i: int, slot: str, a: np.ndarray, p: Tensor, minimum: float | None) -> None:
    """Refuse a state array of the wrong shape or dtype, or with values below its range
    (NaN and ±inf are the caller's to refuse or allow, as for the weights)."""
    if a.shape != p.data.shape or a.dtype != p.data.dtype:
        raise ValueError(
            f"parameter {i}: state {slot!r} has shape {a.shape} and dtype {a.dtype}, "
            f"but the parameter has shape {p.data.shape} and dtype {p.data.dtype}"
        )
    below = a < minimum if minimum is not None else None
    if below is not None and below.any():  # NaN is left to the caller (allow_nonfinite)
        raise ValueError(f"parameter {i}: state {slot!r} must be >= {minimum:g}, but holds "
                         f"{float(a[below].min())!r}")

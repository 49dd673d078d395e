"""``Sequential``: a stack of layers with Keras' compile / fit / evaluate / predict.

The parameter methods (``build``, ``params``, ``get_weights``/``set_weights``, ``summary``,
``jacobian``, ...) are inherited from :class:`.model_params.ParamsMixin`; the checks of
compile's and the data's arguments are functions of :mod:`.model_checks`.

The training contract: the fit loop (:mod:`.loop`), the full-batch :class:`.problem.Problem`
and the diagnostics use a model only through its public methods ``prepare_training``,
``validate_data``, ``ensure_built``, ``objective``, ``regularization``, ``batch_step``,
``output_activation`` and ``scores``, and its ``shuffle_rng`` attribute.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from .. import autodiff as ad
from ..autodiff import Tensor
from ..nn import layers as layers_mod
from ..nn.layers import Layer
from ..optim import FullBatchOptimizer
from . import data
from .callbacks import Callback, History
from .loop import fit_loop
from .model_checks import as_sample_weight, check_batch_size, check_target_shape, resolve_compile
from .model_params import ParamsMixin
from .problem import Problem, residual_jacobian

__all__ = ["Sequential"]

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


class Sequential(ParamsMixin):
    """A feedforward network: layers applied one after the other.

    Parameters
    ----------
    layers : sequence of Layer, optional
    name : str, optional
    seed : int, optional
        Seed of the weight initialisation. When None, ``fit(seed=...)`` seeds it, and
        without either the initial weights come from fresh OS entropy.
    dtype : {"float32", "float64"}, default "float32"
        Precision of the parameters and computations; inputs are converted to it.

    Examples
    --------
    The notes' Keras snippet runs as written::

        model = Sequential()
        model.add(Dense(64, input_dim=100))
        model.add(Activation("relu"))
        model.add(Dense(10))
        model.add(Activation("softmax"))
        model.compile(loss="categorical_crossentropy", optimizer="sgd", metrics=["accuracy"])
        model.fit(X_train, Y_train, epochs=5, batch_size=32)
        model.evaluate(X_test, Y_test, batch_size=32)
    """

    def __init__(
        self,
        layers: Sequence[Layer] | None = None,
        name: str | None = None,
        seed: int | None = None,
        dtype: Any = "float32",
    ) -> None:
        self.layers: list[Layer] = []
        self.name = name or "sequential"
        self.seed = seed
        self.dtype = np.dtype(dtype)
        if self.dtype not in _FLOATS:
            raise ValueError(f"dtype must be float32 or float64, got {self.dtype}")
        self.optimizer: Any = None
        self.loss: Any = None
        self.metrics: list[tuple[str, Any]] = []
        self.built = False
        self.stop_training = False
        self.stop_reason: str | None = None
        self.history: History | None = None
        self.metadata: dict[str, Any] = {}
        self.shuffle_rng: np.random.Generator | None = None
        self._fused = False
        self._train_loss: Any = None
        for layer in layers or ():
            self.add(layer)

    # ------------------------------------------------------------ structure
    def add(self, layer: Layer) -> None:
        """Append a layer (named ``dense``, ``dense_1``, ... when it has no name)."""
        if not isinstance(layer, Layer):
            raise TypeError(f"Sequential.add needs a Layer, got {type(layer).__name__}")
        taken = {lay.name for lay in self.layers}
        if layer.name is None:
            base = type(layer).__name__.lower()
            k, name = 0, base
            while name in taken:
                k += 1
                name = f"{base}_{k}"
            layer.name = name
        elif layer.name in taken:
            raise ValueError(f"a layer named {layer.name!r} is already in the model")
        self.layers.append(layer)
        self.built = False

    # --------------------------------------------------------------- compile
    def compile(
        self,
        optimizer: Any = "sgd",
        loss: Any = "mse",
        metrics: Iterable[Any] | None = None,
    ) -> None:
        """Choose the optimiser, the loss and the metrics.

        Parameters
        ----------
        optimizer : str, dict or Optimizer
            A name of the optimiser registry (``"sgd"``, ``"adam"``, ...) or an instance.
        loss : str, dict or Loss
            A name of the loss registry. When the network ends in sigmoid (softmax) and
            the loss is binary (categorical or sparse categorical) cross-entropy, training
            computes the loss from the logits: stable, with gradient p − y, and equal to
            the unfused value within rounding.
        metrics : list of str or callables, optional
            Names of the metric registry (``"accuracy"``, ``"mse"``, ``"mae"``, ``"r2"``).
        """
        # Resolve and check everything first: a failed compile leaves the model as it was.
        self.optimizer, self.loss, self.metrics = resolve_compile(optimizer, loss, metrics)
        if self.built:
            self.optimizer.build(self.params)

    # ------------------------------------------------------ training contract
    def prepare_training(self) -> None:
        """Resolve the fused logits path for the current last layer and loss, once per
        ``fit``/``evaluate``/``train_step`` call (RuntimeError if not compiled)."""
        if self.optimizer is None or self.loss is None:
            raise RuntimeError("compile the model before training: model.compile(optimizer, loss)")
        if not self.layers:
            raise ValueError("the model has no layers; add some with model.add(...)")
        act = getattr(self.layers[-1], "activation", None)
        act_name = getattr(act, "name", None)
        fuses = getattr(self.loss, "fuses_with", None)
        default_params = getattr(act, "params", {}) in ({}, {"axis": -1})  # softmax over rows
        self._fused = (
            bool(fuses) and act_name == fuses and default_params and not self.loss.from_logits
        )
        self._train_loss = self.loss.with_logits() if self._fused else self.loss
        self._regularized = [lay for lay in self.layers if _has_penalty(lay)]

    # --------------------------------------------------------------- forward
    def __call__(self, x: Any, training: bool = False) -> Tensor:
        return self.forward(x, training=training)

    def forward(self, x: Any, training: bool = False, logits: bool = False) -> Tensor:
        """Run the layers on a batch; ``logits=True`` stops before the final activation."""
        t = x if isinstance(x, Tensor) else Tensor(x, dtype=self.dtype)
        last = len(self.layers) - 1
        for i, layer in enumerate(self.layers):
            if logits and i == last:
                if isinstance(layer, layers_mod.Dense):
                    return layer.linear(t)
                if isinstance(layer, layers_mod.Activation):
                    return t
            t = layer(t, training=training)
        return t

    def regularization(self) -> Tensor | None:
        """The sum of the layers' penalties as a scalar Tensor (None without any)."""
        total: Tensor | None = None
        for layer in self._regularized:
            r = layer.regularization_loss()
            if r is not None:
                total = r if total is None else total + r
        return total

    def objective(self, x: np.ndarray, y: np.ndarray, sample_weight: Any = None,
                  training: bool = True) -> tuple[Tensor, Tensor]:
        """The training objective (loss + penalties) on validated arrays, and the network
        output (the logits when the loss is fused with the last activation)."""
        out = self.forward(Tensor(x), training=training, logits=self._fused)
        if sample_weight is None:  # targets were prepared by _validate
            loss = self._train_loss.total(y, out)
        else:
            loss = self._train_loss(y, out, sample_weight)
        reg = self.regularization()
        return (loss if reg is None else loss + reg), out

    def batch_step(
        self, x: np.ndarray, y: np.ndarray, sample_weight: Any = None
    ) -> tuple[float, np.ndarray]:
        """One optimiser step on validated arrays (no checks): the objective before the
        step and the network output. A :class:`~ffnn.optim.FullBatchOptimizer` takes its
        step on the whole :class:`~.problem.Problem` (x, y)."""
        if isinstance(self.optimizer, FullBatchOptimizer):
            return self.optimizer.step_problem(Problem(self, x, y, sample_weight))
        objective, out = self.objective(x, y, sample_weight, training=True)
        self.optimizer.zero_grad()  # fresh gradients: backward stores instead of adding
        objective.backward()
        self.optimizer.step()
        return float(objective.data), out.data

    def train_step(self, x: Any, y: Any, sample_weight: Any = None) -> dict[str, float]:
        """One optimiser step on one batch; returns ``{"loss": value before the step}``."""
        xa, ya, sw = self.validate_data(x, y, sample_weight)
        self.prepare_training()
        return {"loss": self.batch_step(xa, ya, sw)[0]}

    def jacobian(self, x: Any, y: Any = None) -> np.ndarray:
        """Jacobian of the residuals r = y − ŷ (or of ŷ when ``y`` is None) with respect to
        all parameters: shape (n_samples·n_outputs, n_params), rows sample-major, columns
        in the order of :func:`ffnn.utils.flatten_params`."""
        return residual_jacobian(self, x, y)

    # --------------------------------------------------------------- data
    def _integer_targets(self) -> bool:
        return getattr(self.loss, "name", "") == "sparse_categorical_crossentropy"

    def validate_data(
        self, x: Any, y: Any, sample_weight: Any = None, what: str = "", seed: Any = None
    ) -> tuple[np.ndarray, np.ndarray, Any]:
        """Validate (x, y, sample_weight) once, building the model (from ``seed``) if
        needed; the targets are prepared for the loss. ``what`` prefixes messages."""
        xa = data.as_features(x, self.dtype, self.input_dim, what=f"{what}x")
        self.ensure_built(xa.shape[1], seed)
        if self.loss is None:
            raise RuntimeError("compile the model first: model.compile(optimizer, loss)")
        ya = data.as_targets(y, self.dtype, xa.shape[0], self._integer_targets(), what=f"{what}y")
        n_out = self.output_shape[-1]
        if not self._integer_targets():
            check_target_shape(ya, y, n_out, getattr(self.loss, "name", ""), what)
        dummy = Tensor(np.broadcast_to(np.zeros((), self.dtype), (len(ya), n_out)))
        ya = self.loss.prepare(ya, dummy)
        sw = None
        if sample_weight is not None:
            sw = as_sample_weight(sample_weight, self.dtype, xa.shape[0])
        return xa, ya, sw

    # --------------------------------------------------------------- fit & co
    def fit(
        self,
        x: Any,
        y: Any,
        epochs: int = 1,
        batch_size: int | None = 32,
        validation_split: float = 0.0,
        validation_data: tuple[Any, ...] | None = None,
        shuffle: bool = True,
        callbacks: Sequence[Callback] | None = None,
        verbose: int = 1,
        seed: int | None = None,
        sample_weight: Any = None,
        initial_epoch: int = 0,
        nb_epoch: int | None = None,
        resume_from: Any = None,
        distributed: Any = None,
    ) -> History:
        """Train for ``epochs`` passes over the data.

        Parameters
        ----------
        x, y : array_like
            Samples in rows (lists, NumPy arrays or pandas objects).
        epochs : int
        batch_size : int or None, default 32
            None means full-batch gradient descent; 1 is the per-sample SGD of the
            notes' Algorithm 4.1.
        validation_split : float
            Fraction of the last samples held out for validation (before shuffling).
        validation_data : (x_val, y_val) or (x_val, y_val, sample_weight_val)
        shuffle : bool
            Reshuffle the samples every epoch.
        callbacks : list of Callback
        verbose : {0, 1, 2}
            1: a progress bar per epoch (one line per epoch when not on a terminal);
            2: one line per epoch; 0: silent.
        seed : int, optional
            Seeds shuffling and dropout (and the initial weights if the model has no
            seed and is not built yet).
        sample_weight : array_like, optional
            One non-negative weight per sample.
        initial_epoch : int
            Epoch to start counting from (for resumed runs).
        nb_epoch : int, optional
            Deprecated spelling of ``epochs`` (Keras 0.x, as in the notes).
        resume_from : str or path-like, optional
            A checkpoint written by :class:`~ffnn.callbacks.ModelCheckpoint`: its weights,
            optimiser state, shuffling and dropout generators and history are restored
            and training continues at the epoch after it (``initial_epoch`` is ignored),
            so that with the same data and ``epochs`` the final weights are bit-identical
            to an uninterrupted run's. Raises ``ffnn.ModelFileError`` for a bad file and
            ValueError if it does not match this model.
        distributed : {"mpi"} or ffnn.distributed.MPI, optional
            Data-parallel training: every MPI rank calls ``fit`` with its own rows (the
            ranks' rows in rank order are the data set, ``validation_data`` included);
            the run takes the same steps as one process on the whole data set. See
            :mod:`ffnn.distributed` and docs/scaling.md.

        Returns
        -------
        History
            ``history.history`` maps ``loss``, metric names and ``val_*`` to per-epoch lists.
            An epoch's ``loss`` is the mean of its batch objectives (loss + penalties),
            each weighted by its number of samples (or its total sample weight), as in
            Keras; for a sum-type loss (``sse``) that is the mean batch sum. ``val_*``
            values and :meth:`evaluate` are computed once on the whole set.
        """
        if nb_epoch is not None:
            warnings.warn(
                "fit(nb_epoch=...) is deprecated; use fit(epochs=...)",
                DeprecationWarning,
                stacklevel=2,
            )
            epochs = nb_epoch
        return fit_loop(
            self,
            x,
            y,
            epochs=epochs,
            batch_size=batch_size,
            validation_split=validation_split,
            validation_data=validation_data,
            shuffle=shuffle,
            callbacks=list(callbacks or ()),
            verbose=verbose,
            seed=seed,
            sample_weight=sample_weight,
            initial_epoch=initial_epoch,
            resume_from=resume_from,
            distributed=distributed,
        )

    def save(self, path: Any, metadata: dict[str, Any] | None = None) -> None:
        """Save the model to one ``.safetensors`` file; see :func:`ffnn.io.save`."""
        from .. import io  # io builds on training: a documented circle

        io.save(self, path, metadata)

    def _raw_outputs(self, x: np.ndarray, batch_size: int | None, logits: bool) -> np.ndarray:
        with ad.no_grad():
            if batch_size is None or batch_size >= len(x):
                return self.forward(Tensor(x), logits=logits).data
            parts = [
                self.forward(Tensor(x[s]), logits=logits).data
                for s in data.batches(len(x), batch_size)
            ]
        return np.concatenate(parts, axis=0)

    def predict(self, x: Any, batch_size: int | None = None) -> np.ndarray:
        """Network outputs for ``x`` (probabilities for a sigmoid/softmax output)."""
        xa = data.as_features(x, self.dtype, self.input_dim)
        self.ensure_built(xa.shape[1])
        check_batch_size(batch_size)
        return self._raw_outputs(xa, batch_size, logits=False)

    def output_activation(self, raw: np.ndarray) -> np.ndarray:
        """The outputs from raw ones: the last activation applied to logits when the loss
        is fused with it (see :meth:`objective`), else ``raw`` itself."""
        if not self._fused:
            return raw
        with ad.no_grad():
            return self.layers[-1].activation(Tensor(raw)).data  # type: ignore[attr-defined]

    def scores(
        self, xa: np.ndarray, ya: np.ndarray, sw: Any, batch_size: int | None
    ) -> dict[str, float]:
        """``{"loss": loss + penalties, metric: value, ...}`` on validated arrays."""
        raw = self._raw_outputs(xa, batch_size, logits=self._fused)
        with ad.no_grad():
            loss = (
                self._train_loss.total(ya, Tensor(raw))
                if sw is None
                else self._train_loss(ya, Tensor(raw), sw)
            )
            reg = self.regularization()
            value = float(loss.data) + (float(reg.data) if reg is not None else 0.0)
        logs = {"loss": value}
        if self.metrics:
            pred = self.output_activation(raw)
            for name, fn in self.metrics:
                logs[name] = float(fn(ya, pred))
        return logs

    def evaluate(
        self,
        x: Any,
        y: Any,
        batch_size: int | None = 32,
        sample_weight: Any = None,
        verbose: int = 0,
        return_dict: bool = False,
    ) -> Any:
        """Loss (with penalties) and metrics on ``(x, y)``.

        Returns the loss alone when no metrics were compiled, otherwise
        ``[loss, *metrics]`` (or a dict with ``return_dict=True``), as Keras does. The
        loss is computed once on the whole output, so sum-type losses are exact.
        """
        check_batch_size(batch_size)
        xa, ya, sw = self.validate_data(x, y, sample_weight)
        self.prepare_training()
        logs = self.scores(xa, ya, sw, batch_size)
        if verbose:
            from .progress import format_logs

            print(format_logs(logs))
        if return_dict:
            return logs
        return logs["loss"] if not self.metrics else list(logs.values())


def _has_penalty(layer: Layer) -> bool:
    return getattr(layer, "kernel_regularizer", None) is not None

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
from .._validation import cast_float, check_seed
from ..autodiff import Tensor
from ..nn import layers as layers_mod
from ..nn.layers import Layer
from ..optim import FullBatchOptimizer
from . import data
from .callbacks import Callback, History
from .loop import fit_loop
from .model_checks import (
    as_sample_weight,
    check_batch_size,
    check_predict_memory,
    check_target_shape,
    resolve_compile,
)
from .model_params import ParamsMixin
from .problem import Problem, residual_jacobian
from .static_step import GRAPH_MODES, StaticStep, configuration

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
    dtype : {"float32", "float64"}, optional
        Precision of the parameters and computations; inputs are converted to it.
        When not given: float32, except that compiling with a second-order optimiser
        (a :class:`~ffnn.optim.FullBatchOptimizer`: L-BFGS, Levenberg–Marquardt,
        Bayesian regularisation, ...) switches the model to float64, as MATLAB computes
        in double (float32 limits Levenberg–Marquardt's steps, see
        docs/second_order.md). A dtype given here is always kept.

    Notes
    -----
    A model whose first layer declares its input size (``Dense(64, input_dim=100)``)
    has its weights as soon as they are asked for, as Keras builds it at once:
    ``get_weights``, ``set_weights``, ``summary``, ``count_params`` and ``params`` work
    before ``fit``. Until then ``fit(seed=...)`` still seeds the initial weights; give
    ``seed=`` here to fix weights read before fitting.

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
        dtype: Any = None,
    ) -> None:
        self.layers: list[Layer] = []
        if name is not None and not isinstance(name, str):
            raise TypeError(f"the model name must be a string or None, got {name!r}")
        self.name = name or "sequential"
        self.seed = check_seed(seed, sequence=False)  # saved in model files: an int
        self.dtype_given = dtype is not None
        self.dtype = np.dtype("float32" if dtype is None else dtype)
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
        self.train_param: Any = None  # a division.TrainParam: fit's defaults (ffnn.fitnet)
        self.division: Any = None  # the rows of the last division by train_param
        self.evidence: Any = None  # uncertainty.Evidence: br/lm training rows for return_std
        self._fused = False
        self._train_loss: Any = None
        self.graph = "static"  # set by compile: "static" (traced steps) or "dynamic"
        self._static: StaticStep | None = None
        self._static_state: tuple[Any, ...] | None = None  # see static_step.configuration
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
        graph: str = "static",
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
        graph : {"static", "dynamic"}, default "static"
            ``"static"`` trains through a step traced once per batch shape and replayed
            without the tape (the same weights bit for bit, faster); a model whose step
            cannot be traced (Dropout, PReLU, a full-batch optimiser, Python code on
            the data) takes the tape by itself. ``"dynamic"`` always records the tape:
            for debugging and for custom callables. See docs/architecture.md.
        """
        if graph not in GRAPH_MODES:
            raise ValueError(f"compile: graph must be one of {GRAPH_MODES}, got {graph!r}")
        # Resolve and check everything first: a failed compile leaves the model as it was.
        new_optimizer, new_loss, new_metrics = resolve_compile(optimizer, loss, metrics)
        if isinstance(new_optimizer, FullBatchOptimizer) and not self.dtype_given:
            self.cast(np.float64)  # second-order methods compute in double
        if self.built:
            new_optimizer.build(self.params)
        self.optimizer, self.loss, self.metrics = new_optimizer, new_loss, new_metrics
        self.graph = graph
        self._static = StaticStep(self) if graph == "static" else None

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
        if self._static is not None:  # what the traced steps may have frozen
            self._static_state = configuration(self)

    # --------------------------------------------------------------- forward
    def __call__(self, x: Any, training: bool = False) -> Tensor:
        return self.forward(x, training=training)

    def forward(self, x: Any, training: bool = False, logits: bool = False) -> Tensor:
        """Run the layers on a batch; ``logits=True`` stops before the final activation."""
        t = x if isinstance(x, Tensor) else Tensor(cast_float("x", np.asarray(x), self.dtype))
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
        static = getattr(self, "_static", None)
        if static is not None:
            done = static(x, y, sample_weight)
            if done is not None:
                return done
        objective, out = self.objective(x, y, sample_weight, training=True)
        self.optimizer.zero_grad()  # fresh gradients: backward stores instead of adding
        objective.backward()
        self.optimizer.step()
        return float(objective.data), out.data

    def train_step(self, x: Any, y: Any, sample_weight: Any = None) -> dict[str, float]:
        """One optimiser step on one batch; returns ``{"loss": value before the step}``."""
        xa, ya, sw = self.validate_data(x, y, sample_weight)
        self.prepare_training()
        return {"loss": self.batch_step(data.dense(xa), ya, sw)[0]}

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
        xa = data.as_features(x, self.dtype, self.input_dim, what=f"{what}x", sparse=True)
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
        epochs: int | None = None,
        batch_size: int | None = 32,
        validation_split: float = 0.0,
        validation_data: tuple[Any, ...] | None = None,
        shuffle: bool | str = True,
        callbacks: Sequence[Callback] | None = None,
        verbose: int = 1,
        seed: int | None = None,
        sample_weight: Any = None,
        initial_epoch: int = 0,
        nb_epoch: int | None = None,
        resume_from: Any = None,
        test_data: tuple[Any, ...] | None = None,
        class_weight: Any = None,
        distributed: Any = None,
    ) -> History:
        """Train for ``epochs`` passes over the data.

        Parameters
        ----------
        x, y : array_like
            Samples in rows (lists, NumPy arrays or pandas objects). ``x`` may be a
            SciPy sparse matrix: it stays sparse and each batch is densified just
            before its step (a full-batch optimiser densifies the whole set).
        epochs : int, optional
            Default 1, or ``model.train_param.epochs`` for a model that carries training
            parameters (``ffnn.fitnet`` & co: 1000, as MATLAB).
        batch_size : int or None, default 32
            None means full-batch gradient descent; 1 is the per-sample SGD of the
            notes' Algorithm 4.1.
        validation_split : float
            Fraction of the last samples held out for validation (before shuffling).
        validation_data : (x_val, y_val) or (x_val, y_val, sample_weight_val)
        shuffle : bool or "replacement", default True
            True: a new permutation of the samples every epoch (every sample once).
            ``"replacement"``: each epoch draws as many samples as there are, uniformly
            at random with replacement (Higham & Higham's first variant of stochastic
            gradient: a sample may be seen twice or not at all in an epoch).
            False: the data's order every epoch.
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
        class_weight : dict or "balanced", optional
            Weights of the classes, ``{class index: weight}`` (classes not named weigh
            1) or ``"balanced"``, scikit-learn's n_samples / (n_classes · n_c) over the
            classes of the training samples. The targets must be class labels (integer
            labels, one-hot rows or one 0/1 column). Each training sample's weight is
            its class's weight times its ``sample_weight``: the run equals one with
            ``sample_weight=class_weight[label] * sample_weight``. As in Keras it shapes
            the training loss only: ``val_*`` values (``validation_split`` or
            ``validation_data``) are computed without it.
        test_data : (x_test, y_test) or (x_test, y_test, sample_weight_test), optional
            Evaluated after every epoch and recorded as ``test_loss`` and ``test_<metric>``
            (MATLAB's ``tr.tperf``); it never influences training or stopping.

        Notes
        -----
        A model with ``train_param`` (see :func:`ffnn.fitnet`) divides the rows as it says
        when neither ``validation_data`` nor ``validation_split`` is given (the test rows
        become ``test_data`` unless given; the indices are kept in ``model.division``) and
        stops after ``max_fail`` epochs without a lower ``val_loss``. Preprocessing layers
        not yet adapted are adapted on the training rows before the model is built.
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
            test_data=test_data,
            class_weight=class_weight,
            distributed=distributed,
        )

    def save(self, path: Any, metadata: dict[str, Any] | None = None) -> None:
        """Save the model to one ``.safetensors`` file; see :func:`ffnn.io.save`."""
        from .. import io  # io builds on training: a documented circle

        io.save(self, path, metadata)

    def _raw_outputs(self, x: Any, batch_size: int | None, logits: bool) -> np.ndarray:
        """Outputs batch by batch (sparse inputs densified one batch at a time)."""
        n = x.shape[0]
        if data.is_sparse(x) and batch_size is None:
            batch_size = 256  # densify a bounded batch, never the whole matrix
        check_predict_memory(self, n, batch_size)  # before the activations exist
        with ad.no_grad():
            if batch_size is None or batch_size >= n:
                return self.forward(Tensor(data.dense(x)), logits=logits).data
            parts = [
                self.forward(Tensor(data.dense(x[s])), logits=logits).data
                for s in data.batches(n, batch_size)
            ]
        return np.concatenate(parts, axis=0)

    def predict(self, x: Any, batch_size: int | None = None, return_std: bool = False) -> Any:
        """Network outputs for ``x`` (probabilities for a sigmoid/softmax output).

        ``x`` may be a SciPy sparse matrix: it is densified one batch at a time.

        With ``return_std=True`` (models trained by ``br`` or ``lm`` in this session),
        returns ``(outputs, std)``: the predictive standard deviation of a new target,
        σ²(x) = 1/(2β) + gᵀA⁻¹g with A = 2βJᵀJ + 2αI, MacKay's evidence approximation
        (see :mod:`ffnn.training.uncertainty` and docs/second_order.md).
        """
        xa = data.as_features(x, self.dtype, self.input_dim, sparse=True)
        self.ensure_built(xa.shape[1])
        check_batch_size(batch_size)
        out = self._raw_outputs(xa, batch_size, logits=False)
        if return_std is not False:
            if return_std is not True:
                raise ValueError(f"return_std must be true or false, got {return_std!r}")
            from .uncertainty import predictive_std

            return out, predictive_std(self, data.dense(xa))
        return out

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

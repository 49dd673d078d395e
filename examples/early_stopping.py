"""Early stopping as the notes' Algorithm 4.1: SGD until the validation error stops falling.

Algorithm 4.1 visits the training samples one by one in a fresh random order each
epoch, updates W ← W − α(δaᵀ + λW) and b ← b − αδ, and repeats "until the error rate on
the validation set no longer falls". In ffnn that is per-sample SGD with an L2 kernel
penalty and ``EarlyStopping(monitor="val_accuracy", patience=0,
restore_best_weights=False)`` (see the EarlyStopping docstring).

A 2-64-64-2 tanh network on 100 noisy two-moons points, validated on 200 others. The
full run (no stopping) shows the validation loss turning up while the training error
keeps falling: overfitting. The literal rule stops at the first epoch whose
validation error does not fall, which on a noisy, plateauing error rate comes far too
early. The usual practical form monitors the smoother validation loss with a patience
(20 epochs) and restores the best epoch's weights.

    python examples/early_stopping.py [--quick] [--out DIR]
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from _common import parse_args, report, save
from sklearn.datasets import make_moons

import ffnn
from ffnn import Dense, Sequential
from ffnn.callbacks import EarlyStopping
from ffnn.optimizers import SGD

ALPHA, LAMBDA = 0.1, 1e-5  # Algorithm 4.1's learning rate α and penalty λ


def train(data: tuple[np.ndarray, ...], epochs: int,
          stopper: EarlyStopping | None) -> tuple[Sequential, ffnn.callbacks.History]:
    xt, yt, xv, yv = data
    penalty = ffnn.regularizers.l2(LAMBDA)  # adds (λ/2)‖W‖², gradient λW
    model = Sequential([Dense(64, "tanh", input_dim=2, kernel_regularizer=penalty),
                        Dense(64, "tanh", kernel_regularizer=penalty),
                        Dense(2, "softmax")], seed=0, dtype="float64")
    model.compile(SGD(learning_rate=ALPHA), "sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    history = model.fit(xt, yt, epochs=epochs, batch_size=1, validation_data=(xv, yv),
                        callbacks=[stopper] if stopper else [], verbose=0, seed=0)
    return model, history


def main() -> None:
    args = parse_args(__doc__.splitlines()[0])
    x, y = make_moons(300, noise=0.35, random_state=0)
    data = (x[:100], y[:100], x[100:], y[100:])
    epochs, patience = (30, 5) if args.quick else (300, 20)
    _, full = train(data, epochs, None)
    literal = EarlyStopping(monitor="val_accuracy", patience=0, restore_best_weights=False)
    train(data, epochs, literal)
    patient = EarlyStopping(monitor="val_loss", patience=patience)
    best_model, _ = train(data, epochs, patient)
    val_error = 1 - np.array(full.history["val_accuracy"])
    report("algorithm_4_1_stop_epoch", (literal.stopped_epoch or 0) + 1)
    report("patient_stop_epoch", (patient.stopped_epoch or epochs - 1) + 1)
    report("patient_best_epoch", (patient.best_epoch or 0) + 1)
    report("restored_val_error", 1 - float(best_model.evaluate(data[2], data[3])[1]))
    report("lowest_val_error", float(val_error.min()))
    report("final_val_error_without_stopping", float(val_error[-1]))
    report("val_loss_min_epoch", int(np.argmin(full.history["val_loss"])) + 1)
    report("final_train_error", 1 - full.history["accuracy"][-1])

    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.2), layout="constrained")
    epoch_axis = np.arange(1, len(val_error) + 1)
    left.plot(epoch_axis, 1 - np.array(full.history["accuracy"]), label="training error")
    left.plot(epoch_axis, val_error, label="validation error")
    for stopper, name, style in ((literal, "Algorithm 4.1 (patience 0) stops", ":"),
                                 (patient, f"val_loss, patience {patience}: best", "--")):
        at = stopper.stopped_epoch if stopper is literal else stopper.best_epoch
        left.axvline((at or 0) + 1, color="black", linestyle=style, label=name)
    left.set(title="Error rate per epoch (run without stopping)", xlabel="Epoch",
             ylabel="error rate")
    left.legend(fontsize="small")
    ffnn.plot.history(full, ax=right)
    right.set_ylabel("cross-entropy")
    save(fig, args.out, "early_stopping")


if __name__ == "__main__":
    main()

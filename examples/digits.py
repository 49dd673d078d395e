"""scikit-learn's digits: a 64-64-10 network, its learning curves and its confusion matrix.

1,797 8×8 images of handwritten digits, scaled to [0, 1]; a quarter is held out as the
test set and a tenth of the rest validates each epoch. The confusion matrix of the
test set shows which digits the network mistakes for which.

    python examples/digits.py [--quick] [--out DIR]
"""

from __future__ import annotations

import matplotlib.pyplot as plt
from _common import parse_args, report, save
from sklearn.model_selection import train_test_split

import ffnn
from ffnn import Dense, Sequential
from ffnn.callbacks import EarlyStopping


def main() -> None:
    args = parse_args(__doc__.splitlines()[0])
    x, y = ffnn.datasets.load_digits()
    x_tr, x_te, y_tr, y_te = train_test_split(x / 16.0, y, test_size=0.25, random_state=0,
                                              stratify=y)
    model = Sequential([Dense(64, "relu", input_dim=64), Dense(10, "softmax")], seed=0)
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x_tr, y_tr, epochs=10 if args.quick else 60, batch_size=32,
                        validation_split=0.1, callbacks=[EarlyStopping(patience=8)],
                        verbose=0, seed=0)
    loss, accuracy = model.evaluate(x_te, y_te)
    report("epochs", len(history.history["loss"]))
    report("test_loss", float(loss))
    report("test_accuracy", float(accuracy))
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.5), layout="constrained")
    ffnn.plot.history(history, ax=left)
    ffnn.plot.confusion(model, x_te, y_te, ax=right)
    right.set_title(f"Test set: accuracy {accuracy:.2%} on {len(y_te)} digits")
    save(fig, args.out, "digits")


if __name__ == "__main__":
    main()

"""Vanishing gradients: per-layer gradient norms of a deep sigmoid network and a ReLU one.

Backpropagation multiplies the error by f'(z) at every layer (δ⁽ˡ⁾ = f'(z⁽ˡ⁾) ⊙
W⁽ˡ⁺¹⁾ᵀδ⁽ˡ⁺¹⁾). The logistic function's derivative is at most ¼, so in a deep sigmoid
network the gradient shrinks layer after layer towards the input and the first layers
barely learn (the problem that stalled deep networks in the 1990s, note 3). ReLU's
derivative is 1 wherever a unit is active, and with He initialisation the gradient
keeps its size through the layers.

Two networks of 10 hidden layers of 32 units (sigmoid with Glorot initialisation, ReLU
with He initialisation) on the same data: the gradient norm ‖∂L/∂W⁽ˡ⁾‖ of every
layer at initialisation (:func:`ffnn.diagnostics.report`), averaged over seeds, and the
training loss of each under the same SGD.

    python examples/vanishing_gradients.py [--quick] [--out DIR]
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from _common import parse_args, report, save

import ffnn
from ffnn import Dense, Sequential
from ffnn.optimizers import SGD

DEPTH, WIDTH = 10, 32
NETS = {"sigmoid": "glorot_uniform", "relu": "he_normal"}


def network(activation: str, seed: int) -> Sequential:
    init = NETS[activation]
    layers = [Dense(WIDTH, activation, input_dim=8 if i == 0 else None, kernel_initializer=init)
              for i in range(DEPTH)]
    model = Sequential([*layers, Dense(1, kernel_initializer=init)], seed=seed,
                       dtype="float64")
    model.compile(optimizer=SGD(learning_rate=0.01), loss="mse")
    return model


def layer_norms(activation: str, x: np.ndarray, y: np.ndarray, seeds: int) -> np.ndarray:
    """Mean over seeds of ‖∂L/∂W‖ (Frobenius) per hidden layer, first to last."""
    norms = []
    for seed in range(seeds):
        result = ffnn.diagnostics.report(network(activation, seed), x, y)
        norms.append([entry.kernel_grad_norm for entry in result.layers[:DEPTH]])
    return np.mean(np.array(norms, dtype=np.float64), axis=0)


def main() -> None:
    args = parse_args(__doc__.splitlines()[0])
    rng = np.random.default_rng(0)
    x = rng.standard_normal((512, 8))
    y = np.sin(x[:, :1]) + 0.5 * x[:, 1:2] * x[:, 2:3]
    seeds, epochs = (2, 5) if args.quick else (10, 60)
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4), layout="constrained")
    layers = np.arange(1, DEPTH + 1)
    for activation in NETS:
        norms = layer_norms(activation, x, y, seeds)
        report(f"{activation}_first_layer_norm", float(norms[0]))
        report(f"{activation}_last_layer_norm", float(norms[-1]))
        report(f"{activation}_first_to_last_ratio", float(norms[0] / norms[-1]))
        left.semilogy(layers, norms, marker="o", label=activation)
        model = network(activation, seed=0)
        history = model.fit(x, y, epochs=epochs, batch_size=32, verbose=0, seed=0)
        report(f"{activation}_final_loss", history.history["loss"][-1])
        right.plot(np.arange(1, epochs + 1), history.history["loss"], label=activation)
    left.set(title=f"‖∂L/∂W‖ per hidden layer at initialisation (mean of {seeds} seeds)",
             xlabel="hidden layer (1 = nearest the input)", xticks=layers)
    left.legend()
    right.set(title="Training loss, SGD η = 0.01, batches of 32", xlabel="Epoch",
              ylabel="mse")
    right.legend()
    save(fig, args.out, "vanishing_gradients")


if __name__ == "__main__":
    main()

"""The notes' computation graph of f(x; w, b) = 1/(exp(−(wx+b))+1), with its adjoints.

Reverse-mode differentiation splits f into h1 = wx, h2 = h1 + b, h3 = −h2,
h4 = exp(h3), h5 = h4 + 1, h6 = 1/h5 and walks back from h6 multiplying local
derivatives: at x = 1, w = 0, b = 0 it finds ∂f/∂w = 0.25. The same table comes out of
the dynamic tape (retain_grad on every intermediate) and out of a traced static graph
(ffnn.trace of value_and_grad), and the figure draws it.

    python examples/computation_graph.py [--quick] [--out DIR]
"""

from __future__ import annotations

import numpy as np
from _common import parse_args, report, save

import ffnn
from ffnn import Tensor


def f(x: Tensor, w: Tensor, b: Tensor) -> Tensor:
    return 1 / (ffnn.exp(-(w * x + b)) + 1)


def main() -> None:
    args = parse_args(__doc__.splitlines()[0])
    x, w, b = np.array(1.0), np.array(0.0), np.array(0.0)
    traced = ffnn.trace(ffnn.value_and_grad(f, argnums=(1, 2)), x, w, b)
    value, (dw, db) = traced(x, w, b)
    print("node  primitive  value  adjoint ∂f/∂h")
    for n in traced.nodes:
        print(f"h{n.index + 1}    {n.primitive:<9}  {float(traced.value(n)):<5.3g}  "
              f"{float(traced.adjoint(n)):.4g}")
    for n in traced.nodes:
        report(f"h{n.index + 1}_adjoint", float(traced.adjoint(n)))
    report("f", value)
    report("df_dw", float(dw))
    report("df_db", float(db))

    # the dynamic tape gives the same numbers
    dynamic_value, (ddw, ddb) = ffnn.value_and_grad(f, argnums=(1, 2))(x, w, b)
    report("tape_agrees", dynamic_value == value and ddw == dw and ddb == db)

    fig = ffnn.plot.graph(f, 1.0, 0.0, 0.0)
    fig.axes[0].set_title("f(x; w, b) = 1/(exp(−(wx+b))+1) at x=1, w=0, b=0: "
                          "edges ∂hᵢ/∂operand, adj ∂f/∂hᵢ")
    fig.set_size_inches(12, 3.4)
    save(fig, args.out, "computation_graph")


if __name__ == "__main__":
    main()

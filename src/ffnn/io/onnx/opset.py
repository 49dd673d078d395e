"""The ONNX operator set of the exported graphs (a module of its own: no onnx import)."""

__all__ = ["OPSET"]

#: The ONNX operator set of every exported graph: opset 21, that of ONNX 1.16 (IR
#: version 10). Gelu needs ≥ 20, reductions whose axes are an input ≥ 18.
OPSET = 21

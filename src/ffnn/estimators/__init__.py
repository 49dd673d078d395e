"""scikit-learn estimators: :class:`MLPClassifier`, :class:`MLPRegressor` and
:class:`PerceptronClassifier`.

They follow scikit-learn's estimator contract to the letter (``__init__`` stores the
parameters, ``fit`` validates them, fitted attributes end in ``_``, ``random_state``
re-seeds every ``fit``) and pass ``sklearn.utils.estimator_checks``, so they work in
pipelines, grid searches and cross-validation. The networks are :class:`ffnn.Sequential`
models (``model_``) trained by the library's own optimisers; see docs/estimators.md.

:mod:`.base` holds the machinery shared by the MLPs (parameters, the training driver),
:mod:`.params` the parameter checks, :mod:`.stopping` scikit-learn's stopping rule,
:mod:`.mlp` the MLPs, :mod:`.perceptron` the perceptron, and
:mod:`.file_state`/:mod:`.persistence` their model-file section (``ffnn.save``/``load``).
"""

from .mlp import MLPClassifier, MLPRegressor
from .perceptron import PerceptronClassifier

__all__ = ["MLPClassifier", "MLPRegressor", "PerceptronClassifier"]

"""Public module ``ffnn.models``: the model classes, at Keras's import path.

``from ffnn.models import Sequential`` is the notes' ``from keras.models import
Sequential`` with the package renamed; the class is :class:`ffnn.training.Sequential`.
"""

from .training.model import Sequential

__all__ = ["Sequential"]

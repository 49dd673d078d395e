"""``python -m ffnn``: the ``ffnn`` command (see :mod:`ffnn.cli`)."""

from .cli import main

raise SystemExit(main())

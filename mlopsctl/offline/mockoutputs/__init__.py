"""Per-capability mock answers, kept beside each other instead of in one growing file.

Each submodule registers computed outputs with ``@mlopsctl.offline.harness.computed_outputs(<type token>)``
and data-source answers with ``mlopsctl.offline.harness.INVOKES[<token>] = handler``. All submodules are
imported when the harness loads.
"""

import importlib
import pkgutil


def load_all() -> None:
    for module in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{module.name}")

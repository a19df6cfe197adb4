"""The product's shell: its settings, its composition root, its version and its dataset.

`__version__` is the installed distribution's; `shipped_dataset()` is where the
2025-26 dataset is: inside this package in an installed wheel (`tradeledger/data/`, from
the top-level `data/` folder at build time), the checkout's `data/` when run from source.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

try:
    __version__ = version("tradeledger")
except PackageNotFoundError:  # a checkout on PYTHONPATH, never installed
    __version__ = "0+unknown"


def shipped_dataset() -> Path:
    """The folder of the dataset shipped with tradeledger (JSON Lines files, README)."""
    here = Path(__file__).resolve().parent
    packaged = here / "data"
    return packaged if packaged.is_dir() else here.parent / "data"

"""Where the files a run needs live: the checkout's own folders, or their copies in a wheel.

``configs/``, ``workloads/`` and ``paper/claims.yaml`` stay at the top of the repository,
where a reader looks for them and edits them. Building a wheel copies them into the
package as ``harness/_data/`` (``setup.py``), so an installed ``harness`` has them without
a checkout. A checkout never has ``harness/_data/`` (it is built, and git-ignored), so it
reads its own folders; an installed package has no checkout, so it reads its copies.
Everything below is relative to that one root, laid out the same in both cases (a
workload's manifest path is relative to the configs directory's parent).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parents[1]
BUNDLED_DIR = PACKAGE_DIR / "_data"  # what setup.py's build_py writes into the wheel


@cache
def installed() -> bool:
    """True for a package installed from a wheel (its data copied in), False in a checkout."""
    return (BUNDLED_DIR / "configs" / "config.yaml").is_file()


def data_root() -> Path:
    """The directory holding ``configs/``, ``workloads/`` and ``paper/``."""
    return BUNDLED_DIR if installed() else PACKAGE_DIR.parent


def data_path(*parts: str) -> Path:
    """A shipped file or folder by its path in the repository, e.g. ``data_path("paper", "claims.yaml")``."""
    return data_root().joinpath(*parts)


DIST_NAME = "agent-native-harness"  # the name on the package index (`harness` is taken); import and command: harness


def dist_version() -> str:
    """The installed distribution's version ("unknown" when it is not installed under DIST_NAME)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(DIST_NAME)
    except PackageNotFoundError:
        return "unknown"

"""Build step only (metadata is in pyproject.toml): copy the repository's run data into the wheel.

configs/, workloads/ and paper/claims.yaml stay at the top of the repository, where people
look for them; a wheel carries copies under harness/_data/, which harness.core.resources
finds when there is no checkout. An editable install reads the checkout and gets no copy.
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
SHIPPED = ("configs", "workloads", "paper/claims.yaml")  # what a run reads (harness.core.resources)
IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", ".ipynb_checkpoints")


class BuildWithData(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        target = Path(self.build_lib) / "harness" / "_data"
        for rel in SHIPPED:
            src, dst = ROOT / rel, target / rel
            if not src.exists():
                raise FileNotFoundError(f"{src} is missing: a wheel without it cannot run")
            dst.parent.mkdir(parents=True, exist_ok=True)
            if src.is_dir():
                shutil.copytree(src, dst, ignore=IGNORED, dirs_exist_ok=True)
            else:
                shutil.copy2(src, dst)


setup(cmdclass={"build_py": BuildWithData})

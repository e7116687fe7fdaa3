"""The wheel carries the repository's config/ and workflows/ as ``handlers/skeleton/``: the
template of ``qingliu init`` (engine/cli/init.py). They are copied at build time, so that git
holds them once; an editable install reads them from the checkout instead. All other metadata
is in pyproject.toml."""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
SKELETON = ("config", "workflows")


class BuildWithSkeleton(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return  # editable: engine/cli/init.py reads the checkout
        target = Path(self.build_lib) / "handlers" / "skeleton"
        for name in SKELETON:
            if (target / name).exists():
                shutil.rmtree(target / name)
            shutil.copytree(HERE / name, target / name, ignore=shutil.ignore_patterns("*.pyc"))


setup(cmdclass={"build_py": BuildWithSkeleton})

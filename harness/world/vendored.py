"""The vendored source distributions of the ``real`` workload, checked before they are read.

``workloads/real/packages.json`` lists each released sdist (as ``pip download --no-binary``
fetched it, licence file inside) with its sha256. Nothing is fetched at run time: an
archive that is missing, or whose bytes are not the recorded ones, is a ConfigError
naming it, raised before anything is unpacked or run.

A package's *tree* is its unpacked archive as ``path -> text`` (the archive's top folder
stripped): what a task's workspace holds (``workspace_files``: its code, tests, licence
and the configuration files pytest reads; not its docs). The dependencies its code imports
(inflect: more_itertools, typeguard, jaraco.functools) are not part of the code base an
agent works on: the world's ``suite`` part puts them beside the tree, under
``_deps/<name>/``, only in the sandbox that runs the suite.

It lives with the world, not the workload: a world's ``suite`` part rebuilds its
dependencies and run settings from the package's name alone.
"""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from functools import cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from harness.core.errors import ConfigError
from harness.core.resources import data_path
from harness.world.pytest_suite import SuiteConfig

DEPS_DIR = "_deps"


class Archive(BaseModel):
    """One vendored sdist."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    name: str = Field(description="distribution name, as on the package index")
    version: str = Field(description="released version the archive holds")
    archive: str = Field(description="file name under workloads/real/vendor/")
    sha256: str = Field(description="hex digest of the archive bytes as downloaded")
    licence: str = Field(description="SPDX identifier of the licence")
    licence_file: str = Field(description="licence file inside the archive (kept, never stripped)")


class Dependency(Archive):
    """A package's runtime dependency, vendored so its suite runs offline."""

    import_root: str = Field(description="folder inside the archive that goes on sys.path")


class Package(Archive):
    """A package whose own suite checks the tasks built on it."""

    sources: tuple[str, ...] = Field(description="module files or package folders that mutations may touch")
    tests: tuple[str, ...] = Field(description="pytest paths of its own suite, relative to the archive root")
    pytest_args: tuple[str, ...] = Field(description="extra pytest options (e.g. to drop a plugin-only addopts)")
    deps: tuple[str, ...] = Field(description="names of Dependency entries its code imports")
    deselect: tuple[str, ...] = Field(default=(), description=(
        "node ids left out, each for a stated reason in the manifest's notes: tests that need "
        "what the sandbox withholds (a network, even loopback)"))
    notes: str = Field(default="", description="why anything is deselected or overridden")


class VendorManifest(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    format: int
    packages: tuple[Package, ...]
    dependencies: tuple[Dependency, ...]

    def package(self, name: str) -> Package:
        for p in self.packages:
            if p.name == name:
                return p
        raise ConfigError(f"no vendored package {name!r}",
                          f"known: {', '.join(p.name for p in self.packages)}")

    def dependency(self, name: str) -> Dependency:
        for d in self.dependencies:
            if d.name == name:
                return d
        raise ConfigError(f"vendored dependency {name!r} is not in packages.json")


def real_dir() -> Path:
    return data_path("workloads", "real")


def load_manifest(root: Path | None = None) -> VendorManifest:
    path = (root or real_dir()) / "packages.json"
    try:
        return VendorManifest.model_validate(json.loads(path.read_text(encoding="utf-8")))
    except FileNotFoundError:
        raise ConfigError(f"vendor manifest {path} is missing") from None
    except ValueError as exc:  # json or pydantic; one line, naming the file
        raise ConfigError(f"vendor manifest {path} is malformed: {str(exc).splitlines()[0]}") from None


def archive_bytes(entry: Archive, root: Path | None = None) -> bytes:
    """The archive's bytes, only if they are the recorded ones."""
    path = (root or real_dir()) / "vendor" / entry.archive
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"vendored archive {entry.archive} of {entry.name} {entry.version} is missing "
                          f"({path})") from None
    digest = hashlib.sha256(data).hexdigest()
    if digest != entry.sha256:
        raise ConfigError(f"vendored archive {entry.archive} of {entry.name} {entry.version} is altered: "
                          f"sha256 {digest[:12]}… but packages.json records {entry.sha256[:12]}…")
    return data


def _text_files(data: bytes, entry: Archive) -> dict[str, str]:
    """Regular files of an sdist as text, its top folder stripped. Binary members (none in
    these sdists' code or tests) are skipped; links and devices never become files."""
    out: dict[str, str] = {}
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        for member in tar.getmembers():
            if not member.isfile():
                continue
            parts = member.name.split("/")[1:]
            if not parts or any(p in ("", ".", "..") for p in parts):
                continue
            raw = tar.extractfile(member).read()  # type: ignore[union-attr]
            try:
                out["/".join(parts)] = raw.decode("utf-8")
            except UnicodeDecodeError:
                continue
    if entry.licence_file not in out:
        raise ConfigError(f"vendored archive {entry.archive} has no licence file {entry.licence_file}")
    return dict(sorted(out.items()))


@cache
def _tree(name: str, root: Path | None) -> tuple[tuple[str, str], ...]:
    manifest = load_manifest(root)
    package = manifest.package(name)
    files = _text_files(archive_bytes(package, root), package)
    for dep_name in package.deps:
        dep = manifest.dependency(dep_name)
        prefix = dep.import_root.strip("/")
        for path, text in _text_files(archive_bytes(dep, root), dep).items():
            if prefix in ("", ".") or path.startswith(prefix + "/"):
                inner = path if prefix in ("", ".") else path[len(prefix) + 1:]
                files[f"{DEPS_DIR}/{dep.name}/{inner}"] = text
    return tuple(sorted(files.items()))


def package_tree(name: str, root: Path | None = None) -> dict[str, str]:
    """The verified, unpacked tree of a vendored package (hash-checked on first use)."""
    return dict(_tree(name, root))


def dep_paths(package: Package) -> list[str]:
    """Folders of the tree to put on sys.path before the package's own root."""
    return [f"{DEPS_DIR}/{d}" for d in package.deps]


_LEFT_OUT = (".github/", "docs/", "documentation/", "benchmark/")


def workspace_files(name: str, root: Path | None = None) -> dict[str, str]:
    """What a task's workspace holds: the package's released tree (code, tests and their data,
    licence, the files that configure pytest) as a checkout would have it; its dependencies,
    docs, CI files and benchmarks stay out."""
    return {p: t for p, t in package_tree(name, root).items()
            if not p.startswith(DEPS_DIR + "/") and not p.startswith(_LEFT_OUT)}


def dependency_files(name: str, root: Path | None = None) -> dict[str, str]:
    """The dependency files a suite run puts beside the workspace (empty for most packages)."""
    return {p: t for p, t in package_tree(name, root).items() if p.startswith(DEPS_DIR + "/")}


def suite_config(name: str, root: Path | None = None) -> SuiteConfig:
    package = load_manifest(root).package(name)
    return SuiteConfig(package=package.name, tests=package.tests, pytest_args=package.pytest_args,
                       deselect=package.deselect, dep_paths=tuple(dep_paths(package)))

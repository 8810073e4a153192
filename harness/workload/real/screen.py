"""Screening: which mutants of a real package its own suite kills, frozen for the workload.

For each vendored package: the released tree must pass its whole suite first (a package
whose suite fails before any mutation is refused, by name, and nothing else runs); then
mutants are drawn per kind from the exhaustive enumeration (``mutate``) with a named
stream, and each is run against the whole suite, stopping after ``MAX_FAILURES`` failing
tests. A mutant is *killed* when at least one test fails; one that exhausts a test's step
budget (an endless loop) is counted apart and not used (a task around it would spend its
time waiting). Killed mutants and the crash lines of the tests that caught them go into
``workloads/real/mutants.jsonl`` with its sha256 beside it, and the counts into
``screening.json``: the families draw tasks from that frozen file, never from a new run.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from harness.core.errors import ConfigError
from harness.core.rng import stream
from harness.workload.real import benign, new_parameter, renames
from harness.workload.real.benign import BenignChange
from harness.workload.real.mutate import KINDS, Mutant, enumerate_mutants
from harness.world.pytest_suite import SuiteReport, run_suite
from harness.world.vendored import (
    Package,
    dependency_files,
    load_manifest,
    real_dir,
    suite_config,
    workspace_files,
)

MAX_FAILURES = 3  # enough tests to describe a bug; stopping there keeps screening short
PER_KIND = 10  # candidates drawn per mutation kind and package
CONTROLS = 12  # benign-change candidates per package
RENAMES = 10  # public-symbol rename candidates per package
PARAMETERS = 10  # new-parameter candidates per package


class Killing(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    node_id: str
    message: str


class ScreenedMutant(BaseModel):
    """A mutant its package's suite kills: what the fix_bug and review families build on."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    package: str
    path: str
    start: int
    end: int
    kind: str
    old: str
    new: str
    line: int
    function: str
    failing: tuple[Killing, ...]

    @property
    def mutant(self) -> Mutant:
        return Mutant(self.path, self.start, self.end, self.kind, self.old, self.new, self.line, self.function)

    @property
    def key(self) -> str:
        return f"{self.package}:{self.mutant.mutant_id}"


class ScreenedControl(BaseModel):
    """A benign change the package's suite still passes: a control of the review family."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    package: str
    path: str
    function: str
    old_name: str
    new_name: str
    start: int
    end: int
    new_text: str
    line: int

    @property
    def change(self) -> BenignChange:
        return BenignChange(self.path, self.function, self.old_name, self.new_name, self.start, self.end,
                            self.new_text, self.line)

    @property
    def key(self) -> str:
        return f"{self.package}:{self.change.change_id}"


class ScreenedRename(BaseModel):
    """A public symbol whose careful rename the package's own suite still passes."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    package: str
    path: str
    old: str
    new: str
    kind: str
    uses: int

    @property
    def key(self) -> str:
        return f"{self.package}:{self.old}"


class ScreenedParameter(BaseModel):
    """A function whose gold (a new keyword-only parameter) passes the suite and its new test."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    package: str
    path: str
    function: str
    parameter: str
    calls: str

    @property
    def candidate(self) -> new_parameter.ParameterCandidate:
        return new_parameter.ParameterCandidate(self.path, self.function, self.parameter, self.calls)

    @property
    def key(self) -> str:
        return f"{self.package}:{self.path}:{self.function}"


def is_test_path(path: str) -> bool:
    parts = path.split("/")
    return any(p in ("test", "tests", "testing") for p in parts[:-1]) or parts[-1].startswith(("test_", "conftest"))


def source_modules(package: Package, files: dict[str, str]) -> dict[str, str]:
    """The package's own modules that mutations may touch (its tests are not among them)."""
    roots = tuple(s.rstrip("/") for s in package.sources)
    return {p: t for p, t in files.items() if p.endswith(".py") and not is_test_path(p)
            and any(p == r or p.startswith(r + "/") for r in roots)}


def candidates(package: Package, files: dict[str, str], seed: int) -> tuple[list[Mutant], int]:
    """``PER_KIND`` mutants of each kind, drawn with a stream named after the package, and
    how many the enumeration held."""
    everything = enumerate_mutants(source_modules(package, files))
    picked: list[Mutant] = []
    for kind in KINDS:
        pool = [m for m in everything if m.kind == kind]
        rng = stream(seed, f"real/{package.name}", 0, f"screen.{kind}")
        order = rng.permutation(len(pool))[:PER_KIND]
        picked += [pool[int(i)] for i in sorted(order)]
    return sorted(picked), len(everything)


def baseline(package: Package, root: Path | None = None) -> SuiteReport:
    """The released tree's own suite; a ConfigError naming the package unless it is green."""
    files = {**dependency_files(package.name, root), **workspace_files(package.name, root)}
    report = run_suite(files, suite_config(package.name, root))
    if not report.all_passed:
        first = report.failed[0] if report.failed else None
        detail = f"{len(report.failed)} failing, first {first.node_id}: {first.message[:160]}" if first else (
            report.problem or "timed out" if report.timed_out else f"pytest exit code {report.exit_code}")
        raise ConfigError(f"the own test suite of {package.name} {package.version} fails before any mutation "
                          f"({detail})", hint="fix its entry in workloads/real/packages.json (deselect, "
                                              "pytest_args) or drop the package; nothing was screened")
    return report


def screen_package(package: Package, seed: int, workers: int = 2, progress: Callable[[int], None] = lambda n: None
                   ) -> tuple[list[ScreenedMutant], list[ScreenedControl], dict[str, Any]]:
    base = baseline(package)
    tree = workspace_files(package.name)
    deps = dependency_files(package.name)
    picked, enumerated = candidates(package, tree, seed)
    controls = control_candidates(package, tree, seed)
    config = suite_config(package.name)

    def one(path: str, text: str) -> SuiteReport:
        report = run_suite({**deps, **tree, path: text}, config, max_failures=MAX_FAILURES)
        progress(1)
        return report

    with ThreadPoolExecutor(workers) as pool:
        reports = list(pool.map(lambda m: one(m.path, m.apply(tree[m.path])), picked))
        control_reports = list(pool.map(lambda c: one(c.path, c.apply(tree[c.path])), controls))
    stats: dict[str, Any] = {
        "enumerated": enumerated, "screened": len(picked), "killed": 0, "survived": 0, "endless": 0,
        "no_report": 0, "baseline": base.counts, "baseline_s": round(base.duration_s, 2),
        "mutant_run_s": round(sum(r.duration_s for r in reports) / max(1, len(reports)), 2),
        "by_kind": {k: {"screened": 0, "killed": 0} for k in KINDS},
        "controls": {"screened": len(controls), "green": sum(r.all_passed for r in control_reports)}}
    kept: list[ScreenedMutant] = []
    for m, r in zip(picked, reports, strict=True):
        stats["by_kind"][m.kind]["screened"] += 1
        if r.timed_out or r.problem:
            stats["no_report"] += 1
        elif any(o.message.startswith("StepBudgetExceeded") for o in r.failed):
            stats["endless"] += 1
        elif r.failed:
            stats["killed"] += 1
            stats["by_kind"][m.kind]["killed"] += 1
            failing = tuple(Killing(node_id=o.node_id, message=o.message) for o in r.failed)
            kept.append(ScreenedMutant(package=package.name, **asdict(m), failing=failing))
        else:
            stats["survived"] += 1
    green = [ScreenedControl(package=package.name, **asdict(c))
             for c, r in zip(controls, control_reports, strict=True) if r.all_passed]
    return kept, green, stats


def control_candidates(package: Package, files: dict[str, str], seed: int) -> list[BenignChange]:
    rng = stream(seed, f"real/{package.name}", 0, "screen.controls")
    modules = source_modules(package, files)
    out: list[BenignChange] = []
    for path in sorted(modules, key=lambda p: int(rng.integers(1 << 30))):
        out += benign.candidates(path, modules[path], rng, CONTROLS - len(out))
        if len(out) >= CONTROLS:
            break
    return sorted(out, key=lambda c: (c.path, c.start))


def screen_renames(package: Package, seed: int, workers: int = 2,
                   progress: Callable[[int], None] = lambda n: None) -> tuple[list[ScreenedRename], dict[str, int]]:
    """Rename candidates whose gold (``renames.rename_everywhere``) keeps the suite green."""
    tree = workspace_files(package.name)
    deps = dependency_files(package.name)
    rng = stream(seed, f"real/{package.name}", 0, "screen.renames")
    picked = renames.candidates(source_modules(package, tree), tree, rng, RENAMES)
    config = suite_config(package.name)

    def one(c: renames.RenameCandidate) -> SuiteReport:
        report = run_suite({**deps, **renames.rename_everywhere(tree, c.old, c.new)}, config)
        progress(1)
        return report

    with ThreadPoolExecutor(workers) as pool:
        reports = list(pool.map(one, picked))
    kept = [ScreenedRename(package=package.name, **asdict(c)) for c, r in zip(picked, reports, strict=True)
            if r.all_passed]
    return kept, {"screened": len(picked), "green": len(kept)}


def screen_parameters(package: Package, seed: int, workers: int = 2, progress: Callable[[int], None] = lambda n: None
                      ) -> tuple[list[ScreenedParameter], dict[str, int]]:
    """New-parameter candidates whose gold passes the suite and the generated test."""
    tree = workspace_files(package.name)
    deps = dependency_files(package.name)
    rng = stream(seed, f"real/{package.name}", 0, "screen.parameters")
    tests = {p: t for p, t in tree.items() if p.endswith(".py") and is_test_path(p)}
    picked = new_parameter.candidates(source_modules(package, tree), tests, rng, PARAMETERS)
    config = suite_config(package.name)

    def one(c: new_parameter.ParameterCandidate) -> SuiteReport:
        path, source = new_parameter.hidden_test(c)
        files = {**deps, **tree, c.path: new_parameter.with_parameter(tree[c.path], c.function, c.parameter),
                 path: source}
        report = run_suite(files, config, select=(*config.tests, path))
        progress(1)
        return report

    with ThreadPoolExecutor(workers) as pool:
        reports = list(pool.map(one, picked))
    kept = [ScreenedParameter(package=package.name, **asdict(c)) for c, r in zip(picked, reports, strict=True)
            if r.all_passed]
    return kept, {"screened": len(picked), "green": len(kept)}


def frozen_path(name: str, root: Path | None = None) -> Path:
    return (root or real_dir()) / f"{name}.jsonl"


def _write_frozen(name: str, items: list[BaseModel], root: Path | None) -> str:
    path = frozen_path(name, root)
    text = "".join(m.model_dump_json() + "\n" for m in sorted(items, key=lambda m: m.key))  # type: ignore[attr-defined]
    path.write_text(text, encoding="utf-8")
    digest = hashlib.sha256(text.encode()).hexdigest()
    path.with_suffix(".sha256").write_text(digest + "\n")
    return digest


def _load_frozen(name: str, model: type[BaseModel], root: Path | None) -> tuple[Any, ...]:
    """A frozen screening file, refused when its bytes are not the recorded ones."""
    path = frozen_path(name, root)
    try:
        data = path.read_bytes()
        recorded = path.with_suffix(".sha256").read_text().strip()
    except FileNotFoundError as exc:
        raise ConfigError(f"no screening at {exc.filename}",
                          hint="run `harness tasks screen` to screen the vendored packages") from None
    if hashlib.sha256(data).hexdigest() != recorded:
        raise ConfigError(f"{path} does not match its recorded sha256", hint="re-run `harness tasks screen`")
    return tuple(model.model_validate_json(line) for line in data.decode().splitlines() if line)


def load_screened(root: Path | None = None) -> tuple[ScreenedMutant, ...]:
    return _load_frozen("mutants", ScreenedMutant, root)


def load_controls(root: Path | None = None) -> tuple[ScreenedControl, ...]:
    return _load_frozen("controls", ScreenedControl, root)


def load_renames(root: Path | None = None) -> tuple[ScreenedRename, ...]:
    return _load_frozen("renames", ScreenedRename, root)


def load_parameters(root: Path | None = None) -> tuple[ScreenedParameter, ...]:
    return _load_frozen("parameters", ScreenedParameter, root)


@dataclass
class Screening:
    """Everything one screening produced: the frozen pools and the counts behind them."""

    mutants: list[ScreenedMutant] = field(default_factory=list)
    controls: list[ScreenedControl] = field(default_factory=list)
    renamed: list[ScreenedRename] = field(default_factory=list)
    parameters: list[ScreenedParameter] = field(default_factory=list)
    stats: dict[str, Any] = field(default_factory=dict)

    def write(self, root: Path | None = None) -> dict[str, str]:
        out = {name: _write_frozen(name, list(items), root) for name, items in (
            ("mutants", self.mutants), ("controls", self.controls), ("renames", self.renamed),
            ("parameters", self.parameters))}
        (root or real_dir()).joinpath("screening.json").write_text(
            json.dumps(self.stats, indent=1, sort_keys=True) + "\n")
        return out


def planned_runs(packages: int) -> int:
    """Suite runs a screening makes (for a progress bar): baselines are not counted."""
    return packages * (len(KINDS) * PER_KIND + CONTROLS + RENAMES + PARAMETERS)


def screen_all(seed: int = 0, workers: int = 2, packages: tuple[str, ...] | None = None,
               progress: Callable[[int], None] = lambda n: None) -> Screening:
    """Screen every vendored package (or the named ones); all archives are checked first."""
    manifest = load_manifest()
    unknown = sorted(set(packages or ()) - {p.name for p in manifest.packages})
    if unknown:
        raise ConfigError(f"no vendored package {', '.join(unknown)}",
                          hint=f"known: {', '.join(p.name for p in manifest.packages)}")
    chosen = [p for p in manifest.packages if packages is None or p.name in packages]
    for p in chosen:  # every archive checked before anything runs
        workspace_files(p.name)
    out = Screening(stats={"seed": seed, "per_kind": PER_KIND, "controls": CONTROLS, "renames": RENAMES,
                           "parameters": PARAMETERS, "max_failures": MAX_FAILURES, "packages": {}})
    for p in chosen:
        kept, green, stats = screen_package(p, seed, workers, progress)
        renamed, stats["renames"] = screen_renames(p, seed, workers, progress)
        parameters, stats["parameters"] = screen_parameters(p, seed, workers, progress)
        out.mutants += kept
        out.controls += green
        out.renamed += renamed
        out.parameters += parameters
        out.stats["packages"][p.name] = stats
    return out

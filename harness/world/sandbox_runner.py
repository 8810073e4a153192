"""Runs a workspace test module inside the sandbox; stdlib only, not imported by the harness.

Usage: ``python -I -S -B sandbox_runner.py TESTRUN_PY MODULE TIMEOUT_S SITE_DIR`` with the
sandbox root as the working directory. It loads ``testrun.py`` itself (the very code the
in-process backend runs, so both backends share discovery and semantics) over a snapshot
of the files taken before any workspace code runs, and prints one marked JSON line with
the report on a private copy of stdout; the tests' own output goes to /dev/null, as
in-process output never reaches the agent either.
"""

import importlib.util
import json
import os
import sys

MARKER = "@@harness-test-report@@"


def _normalise(path):
    # Same rules as Workspace._normalise; an invalid path simply does not exist here.
    parts = [p for p in path.strip().replace("\\", "/").split("/") if p not in ("", ".")]
    return "/".join(parts)


class SnapshotFiles:
    """The read-only surface of ``Workspace`` that ``testrun`` uses, over files on disk."""

    def __init__(self, root):
        self._files = {}
        for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
            dirnames.sort()
            for name in filenames:
                full = os.path.join(dirpath, name)
                if os.path.islink(full):
                    continue
                rel = os.path.relpath(full, root).replace(os.sep, "/")
                with open(full, encoding="utf-8", errors="replace", newline="") as fh:
                    self._files[rel] = fh.read()

    def list(self, prefix=""):
        return sorted(self._files)

    def exists(self, path):
        return _normalise(path) in self._files

    def read(self, path):
        return self._files[_normalise(path)]


def main(argv):
    testrun_path, module, timeout_s = argv[1], argv[2], float(argv[3])
    sys.path.append(argv[4])  # the harness's third-party packages, as in-process (no .pth files)
    files = SnapshotFiles(".")
    report_out = os.fdopen(os.dup(1), "w", encoding="utf-8")
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    spec = importlib.util.spec_from_file_location("_harness_testrun", testrun_path)
    testrun = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = testrun  # dataclasses look their module up there
    spec.loader.exec_module(testrun)
    report = testrun.run_test_module(files, module, timeout_s)
    report_out.write(MARKER + json.dumps(report.to_wire()) + "\n")
    report_out.flush()


if __name__ == "__main__":
    main(sys.argv)

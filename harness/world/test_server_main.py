"""The test server: runs workspace test modules in the sandbox, one forked child per run.

Standard library only, not imported by the harness; started by ``harness.world.test_server``
as ``python -I -S -B test_server_main.py TESTRUN_PY SITE_DIR`` in a sandbox. It loads
``testrun.py`` (the code the in-process backend runs, so both share discovery and
semantics) once; for each request a child writes the workspace's files into the root,
runs the module over a snapshot taken before any workspace code runs, and answers with
the report. The fork server (``sandbox_child``) then clears every process and file the
run left, before the next request.
"""

import importlib.util
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # -I leaves the script's directory out
from sandbox_child import fork_server, open_channel  # noqa: E402


class SnapshotFiles:
    """The read-only surface of ``Workspace`` that ``testrun`` uses, over the request's files."""

    def __init__(self, files):
        self._files = dict(files)

    @staticmethod
    def _normalise(path):
        return "/".join(p for p in path.strip().replace("\\", "/").split("/") if p not in ("", "."))

    def list(self, prefix=""):
        return sorted(self._files)

    def exists(self, path):
        return self._normalise(path) in self._files

    def read(self, path):
        return self._files[self._normalise(path)]


def _materialise(files):
    """The files on disk too, for code that opens them by path; refuses to leave the root."""
    root = os.getcwd()
    for rel, text in files.items():
        target = os.path.realpath(os.path.join(root, rel))
        if not target.startswith(root + os.sep) or ".." in rel.split("/"):
            continue
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target, "w", encoding="utf-8", errors="surrogateescape", newline="") as fh:
            fh.write(text)


def main(argv):
    sys.path.append(argv[2])  # the harness's third-party packages, as in-process (no .pth files)
    spec = importlib.util.spec_from_file_location("_harness_testrun", argv[1])
    testrun = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = testrun  # dataclasses look their module up there
    spec.loader.exec_module(testrun)
    channel = open_channel()
    channel.send({"op": "hello"})

    def run(channel, request):
        files = SnapshotFiles(request["files"])  # taken before any workspace code runs
        _materialise(request["files"])
        report = testrun.run_test_module(files, request["module"], float(request["timeout_s"]))
        channel.send({"op": "report", "report": report.to_wire()})

    fork_server(channel, run)


if __name__ == "__main__":
    main(sys.argv)

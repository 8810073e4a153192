"""What ``harness run --help`` lists below its options: the experiments and the config keys.

Read from the config directory (``configs/``), so a new experiment or key shows up
without a change here: each experiment with the first sentence of the comment that opens
its yaml, the root keys of ``config.yaml`` with their comments, and each config group
with its choices and the keys of its default. The text is rich markup (typer renders
help that way), so every name and comment is escaped: ``[key=value ...]`` must not be
read as a style tag.
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import yaml
from rich.markup import escape

from harness.core.errors import ConfigError
from harness.experiment.config import config_dir

GROUPS = ("workload", "agent", "executor", "store", "condition")  # config groups worth listing
LINE = 78  # help off a terminal is 80 columns wide; typer indents the epilog by one
_DEFAULT = re.compile(r"^\s+- (\w+): (\w+)", re.M)  # config.yaml's defaults list: group, choice
_KEY = re.compile(r"^( *)([a-z_]+):\s*([^#]*?)\s*(?:#\s*(.*))?$")  # indent, key, value, comment


def first_sentence(yaml_text: str) -> str:
    """The first sentence of the comment block that opens a yaml (after ``# @package``)."""
    words = []
    for line in yaml_text.splitlines():
        if not line.startswith("#"):
            break
        if not line.startswith("# @package"):
            words.append(line.lstrip("#").strip())
    text = " ".join(w for w in words if w)
    return re.split(r"(?<=[.;])\s", text, maxsplit=1)[0].rstrip(".;")


def experiments(directory: Path) -> list[tuple[str, str]]:
    return [(p.stem, first_sentence(p.read_text())) for p in sorted((directory / "experiment").glob("*.yaml"))]


def root_keys(directory: Path) -> list[tuple[str, str]]:
    """``config.yaml``'s top-level keys as ``key=default`` with their inline comments
    (``defaults`` left out: its groups are listed apart). A key with neither a value nor a
    comment of its own (``run:``) is shown by its sub-keys (``run.id=null``)."""
    out: list[tuple[str, str]] = []
    parent = None
    for line in (directory / "config.yaml").read_text().splitlines():
        match = _KEY.match(line)
        if not match or match.group(2) == "defaults":
            continue
        indent, key, value, comment = match.group(1), match.group(2), match.group(3), (match.group(4) or "").strip()
        if not indent:
            parent = None if value or comment else key
            if parent is None:
                out.append((f"{key}={value}" if value else key, comment))
        elif parent is not None and len(indent) == 2:
            out.append((f"{parent}.{key}={value}", comment))
    return out


def groups(directory: Path) -> list[tuple[str, str]]:
    """Each group's choices and, for the group's default choice, its keys (``executor.workers``)."""
    chosen = dict(_DEFAULT.findall((directory / "config.yaml").read_text()))
    out = []
    for group in GROUPS:
        if not (directory / group).is_dir():
            continue
        text = ", ".join(sorted(p.stem for p in (directory / group).glob("*.yaml")))
        default = directory / group / f"{chosen.get(group)}.yaml"
        if default.is_file():
            keys = [f"{k}.*" if isinstance(v, dict) else k for k, v in (yaml.safe_load(default.read_text()) or {}).items()]
            text += f"; keys of {default.stem}: {', '.join(keys)}"
        out.append((group, text))
    return out


def _rows(rows: list[tuple[str, str]], width: int | None = None, max_lines: int = 2) -> list[str]:
    """Two columns, the second wrapped under itself within the 80 columns help is printed
    in off a terminal."""
    width = width or max((len(a) for a, _ in rows), default=0)
    out = []
    for a, b in rows:
        text = textwrap.fill(f"  {a:<{width}}  {b}", LINE, subsequent_indent=" " * (width + 4), max_lines=max_lines,
                             placeholder=" …") if b else f"  {a}"
        out += [escape(line) for line in text.splitlines()]
    return out


def epilog() -> str:
    """The help's closing text (rich markup; typer keeps its line breaks)."""
    try:
        return _epilog(config_dir())
    except ConfigError as exc:
        return escape(f"(experiments and keys not listed: {exc.message})")
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:  # every command imports this: never fail it
        return escape(f"(experiments and keys not listed: {type(exc).__name__} reading configs/)")


def _epilog(directory: Path) -> str:
    sections = [
        ["[bold]Experiments[/] (experiment=NAME)", *_rows(experiments(directory))],
        ["[bold]Config keys[/] (key=value, defaults shown; configs/config.yaml)", *_rows(root_keys(directory))],
        ["[bold]Groups[/] " + escape("(group=CHOICE, then group.key=value; conditions=[a,b] takes presets)"),
         *_rows([*groups(directory),
                 ("layers", "layers.<layer>.config.<key>=value: a layer's option in every condition")], max_lines=5)],
        [escape("Examples: harness run experiment=smoke repeats=3 executor.workers=2"),
         escape("          harness run -m experiment=factorial_smoke seed=0,1")],
    ]
    return "\n\n".join("\n".join(lines) for lines in sections)

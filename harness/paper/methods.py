"""The reproduction report's methods section, generated from a run's stored config."""

from __future__ import annotations

from typing import Any

from harness.paper.tex import tex_escape


def _item(label: str, value: Any) -> str:
    return rf"\item \textbf{{{tex_escape(label)}}}: {tex_escape(str(value))}"


def methods_tex(info: dict[str, Any], config: dict[str, Any]) -> str:
    """What a reviewer needs to rerun it: workload, conditions, repeats, seeds, statistics,
    code version, the agent profile and the fault model."""
    conditions = [c.get("name", "?") for c in config.get("conditions", [])]
    profile = (config.get("agent") or {}).get("profile") or {}
    faults = config.get("faults") or {}
    factorial = config.get("factorial") or {}
    lines = [
        r"\section{Methods}",
        "Every number below was produced by the harness from stored episodes; the report's "
        "published numbers are shown beside them for comparison only.",
        r"\begin{itemize}",
        _item("Run", f"{info.get('id')} (experiment {info.get('experiment')})"),
        _item("Workload", f"{config.get('workload', {}).get('name', '?')}, hash {info.get('workload_hash')}"),
        _item("Conditions", ", ".join(conditions)),
        _item("Repeats per task", info.get("repeats")),
        _item("Root seed", info.get("seed")),
        _item("Config hash", info.get("config_hash")),
        _item("Code version", info.get("code_version")),
        _item("Episodes", info.get("planned_episodes")),
        _item("Agent", f"{(config.get('agent') or {}).get('name')} with profile "
                       + ", ".join(f"{k}={v}" for k, v in sorted(profile.items()))),
        _item("Fault model", ", ".join(f"{k}={v}" for k, v in sorted(faults.items())) or "none"),
    ]
    if factorial:
        comps = "; ".join(f"{c['name']} = {' + '.join(c['layers'])}" for c in factorial.get("components", []))
        lines.append(_item("Factorial", f"{factorial.get('base')} -> {factorial.get('treatment')}: {comps}"))
    lines += [
        _item("Statistics", "task-level values (mean over repeats); tasks resampled with replacement within "
                            "category, paired across conditions; 10,000 resamples seeded by the root seed; BCa "
                            "intervals with percentile fallback; overall figures task-weighted; Shapley values "
                            "as exact linear maps of the factorial cell means; Holm across categories"),
        r"\end{itemize}",
    ]
    return "\n".join(lines)

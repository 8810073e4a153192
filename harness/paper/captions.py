"""Every figure's caption in ``main.tex``: what is plotted, its unit, what the bars,
markers and whiskers are, and how many tasks and repeats stand behind it.

One mapping from a figure's file name to its caption, next to the figure modules (the
figures themselves carry no caption). A caption is filled from the facts of the run that
made the figure (``RunFacts``), never from hand-written numbers: paper numbers live only
in ``paper/claims.yaml``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from harness.paper.tex import tex_escape
from harness.store import reader

CI = "95% bootstrap CIs (tasks resampled within category, paired across conditions)"
SIZE = "{tasks} tasks × {repeats} repeat{repeat_s} × {conditions} conditions ({episodes} episodes, run {run_id})"

CAPTIONS: dict[str, str] = {
    "fig_completion": (
        "Completion rate (%: episodes whose checks passed) per task category (groups) and condition (bars); "
        "'all' is task-weighted. Whiskers: " + CI + ". White diamonds: the report's published rate for the "
        "compared pair, drawn on the bar it is compared with. " + SIZE + "."),
    "fig_decomposition": (
        "Gap decomposition, all tasks. Top: the baseline's completion rate (%), one step per factor (its exact "
        "Shapley value, labelled in pp; blue adds, vermillion subtracts), the treatment's rate; whiskers: " + CI
        + " of each rate or component. Bottom (where the factorial has interactions): interaction terms "
        "(Harsanyi dividends, pp) with their CIs. " + SIZE + "."),
    "fig_pass_k": (
        "Reliability: pass^k (%), the chance that k attempts at a task all succeed (unbiased estimator "
        "C(c,k)/C(n,k) per task, averaged over all tasks), {pass_k_shown}. " + SIZE + "."),
    "fig_task_gaps": (
        "Per-task gap (pp): a task's success rate over its {repeats} repeat{repeat_s} under the treatment minus "
        "under the baseline; histograms count tasks per category and over all tasks (bottom panel). Dashed "
        "line: the mean gap (the task-weighted gap); solid line: no difference; no whiskers: each task is counted "
        "once. " + SIZE + "."),
    "fig_trace_baseline": (
        "The observability record of one episode that failed under the baseline (the first such task and "
        "repeat), re-run from the stored config under the baseline: boxes are actions in order (red: "
        "failed), solid arrows parent pointers, dashed arcs causal dependencies; a text log is drawn as its "
        "lines. Run {run_id}."),
    "fig_trace_treatment": (
        "The same task and repeat as the baseline trace (same random draws), re-run under the treatment: "
        "boxes are actions in order (red: failed), solid arrows parent pointers, dashed arcs causal "
        "dependencies. Run {run_id}."),
    "fig_scenarios": (
        "Task completion (%) per deployment scenario (rows) and condition (bars); 'all' is task-weighted. "
        "Whiskers: 95% bootstrap CIs (tasks resampled within scenario, paired across conditions). Diamonds on "
        "the 'all' row: the report's Table 1 completion. " + SIZE + "."),
    "fig_tco_sensitivity": (
        "TCO ratio (treatment over the cheapest baseline; below 1 the treatment costs less) against the hourly "
        "rate of human time (USD), one line per infrastructure price multiplier; band: 95% bootstrap interval "
        "at the configured prices; dotted: the configured rate. Priced from " + SIZE + "."),
    "fig_tco_tornado": (
        "TCO ratio with one price at a time at ×0.5 and ×2 (the largest swings), around the ratio at the "
        "configured prices (dotted); dashed: ratio 1. Priced from " + SIZE + "."),
    "fig_skill": (
        "Gap against agent skill (the reference agent's error_scale: 0 a perfect agent, 1 its profile as written, "
        "4 four times as error-prone; square-root axis). Top: completion (%) of I_human and I_opt; bottom: the gap "
        "(pp) and its exact Shapley components over the factorial (they sum to the gap). Bands: " + CI + ". "
        + SIZE + "."),
    "fig_sensitivity_tornado": (
        "Gap I_opt - I_human (pp) with one unpublished world setting at a time at the low and the high end of its "
        "documented range (bars from one end to the other, each end labelled with the setting's value there), "
        "largest swing at the top; dotted: the gap with no setting moved. Every arm meets the same random draws "
        "(paired); the swings' CIs are in `harness report`. " + SIZE + "."),
    "fig_roi": (
        "Cumulative ROI multiple (savings over spend) by month of the phased roll-out, with its 95% bootstrap "
        "band; dashed: break-even; dotted: each phase going live. Priced from " + SIZE + "."),
}


@dataclass(frozen=True)
class RunFacts:
    """What a caption says about the run behind a figure."""

    run_id: str
    tasks: int
    repeats: int
    conditions: int
    episodes: int

    @classmethod
    def of(cls, db: str, run_id: str) -> RunFacts:
        info, eps = reader.run_info(db, run_id), reader.episodes(db, run_id)
        repeats = int(info.get("repeats") or (eps.repeat.max() + 1 if len(eps) else 0))
        return cls(run_id, int(eps.task_id.nunique()), repeats, int(eps.condition.nunique()), len(eps))

    def fields(self) -> dict[str, object]:
        shown = (f"against k = 1 to {self.repeats}, one line per condition; bands: {CI}" if self.repeats > 1 else
                 f"shown for k = 1 only, one point per condition with {CI} as whiskers: pass^k for "
                 "k of 2 or more needs that many repeats per task")
        return {**asdict(self), "repeat_s": "s" * (self.repeats != 1), "pass_k_shown": shown}


def caption(stem: str, facts: RunFacts) -> str:
    """The caption of the figure written as ``<stem>.pdf``, as plain text. A figure without
    an entry is a bug in this mapping, not in the reader's input: it fails loudly."""
    if stem not in CAPTIONS:
        raise KeyError(f"figure {stem} has no caption in harness.paper.captions.CAPTIONS")
    return CAPTIONS[stem].format(**facts.fields())


def caption_tex(stem: str, facts: RunFacts) -> str:
    return tex_escape(caption(stem, facts))

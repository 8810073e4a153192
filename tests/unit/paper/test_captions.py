"""main.tex captions: one per figure the paper writes, saying what is plotted and from how much."""

import re

import pytest

from harness.paper.captions import CAPTIONS, RunFacts, caption, caption_tex
from harness.paper.tex import tex_escape

ONE = RunFacts("run-1", tasks=12, repeats=1, conditions=8, episodes=96)
FIVE = RunFacts("run-5", tasks=12, repeats=5, conditions=8, episodes=480)
# Every name the paper's figure code saves under (figures.py, dag.py via build.py,
# scenario_section.py, cost_section.py).
WRITTEN = {"fig_completion", "fig_decomposition", "fig_pass_k", "fig_task_gaps", "fig_trace_baseline",
           "fig_trace_treatment", "fig_scenarios", "fig_tco_sensitivity", "fig_tco_tornado", "fig_roi",
           "fig_skill", "fig_sensitivity_tornado"}


def test_every_figure_the_paper_writes_has_a_caption():
    assert set(CAPTIONS) == WRITTEN


@pytest.mark.parametrize("stem", sorted(WRITTEN))
def test_a_caption_is_a_sentence_not_a_file_name_and_names_its_run(stem):
    text = caption(stem, FIVE)
    assert stem not in text and len(text.split()) >= 15
    assert "run-5" in text
    assert "{" not in text  # every placeholder filled


@pytest.mark.parametrize("stem", ["fig_completion", "fig_decomposition", "fig_pass_k", "fig_task_gaps",
                                  "fig_scenarios"])
def test_data_captions_give_tasks_repeats_unit_and_the_whiskers(stem):
    text = caption(stem, FIVE)
    assert "12 tasks × 5 repeats × 8 conditions (480 episodes" in text
    assert "%" in text or "pp" in text
    assert "95%" in text or "no whiskers" in text  # what the error bars are, or that there are none


def test_pass_k_caption_says_what_one_repeat_can_show():
    one, five = caption("fig_pass_k", ONE), caption("fig_pass_k", FIVE)
    assert "k = 1 only" in one and "1 repeat ×" in one
    assert "k = 1 to 5" in five


def test_captions_are_valid_tex_text():
    for stem in CAPTIONS:
        tex = caption_tex(stem, ONE)
        assert not re.search(r"(?<!\\)[_%&#^]", tex.replace(r"\textasciicircum{}", "")), tex
        assert not re.search(r"(?<!\$)[<>](?!\$)", tex), tex
        assert "×" not in tex and "→" not in tex


def test_tex_escape_handles_carets_and_comparison_signs():
    assert tex_escape("pass^k, k > 1, p < 0.05") == r"pass\textasciicircum{}k, k $>$ 1, p $<$ 0.05"

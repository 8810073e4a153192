"""The README a person meets: its first screen says the default agent is simulated and how
to run a real model instead, and it points at nothing outside the repository."""

import re

from tests.conftest import ROOT

README = (ROOT / "README.md").read_text()
FIRST_SCREEN = " ".join(" ".join(README.splitlines()[:40]).split())  # one line: phrases may wrap


def test_the_first_screen_says_the_default_agent_is_simulated_and_how_to_run_a_model():
    assert "simulated" in FIRST_SCREEN and "not a measurement of any" in FIRST_SCREEN
    assert "agent=llm" in FIRST_SCREEN and "agent=mock" in FIRST_SCREEN
    assert "make smoke" in FIRST_SCREEN  # from clone to first table


def test_no_path_leaves_the_repository():
    assert "../" not in README  # e.g. a design document beside the checkout, which a reader does not have
    assert not re.search(r"(?<![\w.])/(work|home|root|Users)/", README)  # nor a path on someone's machine

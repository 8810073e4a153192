"""The line an incomplete run's report starts with (``harness.analysis.completeness``)."""

from harness.analysis.completeness import incomplete_note


def _info(status, stored, planned=600):
    return {"status": status, "episodes_done": stored, "planned_episodes": planned}


def test_a_finished_run_with_every_episode_is_complete():
    assert incomplete_note(_info("finished", 600)) is None


def test_a_stopped_run_says_how_much_is_stored():
    assert incomplete_note(_info("stopped", 84)) == (
        "INCOMPLETE: 84 of 600 episodes stored (run stopped); estimates cover the stored episodes only")


def test_a_running_or_killed_run_is_incomplete_even_when_every_episode_is_stored():
    assert "(run still running, or killed)" in incomplete_note(_info("running", 600))


def test_a_finished_run_short_of_its_plan_is_incomplete():
    assert incomplete_note(_info("finished", 10)).startswith("INCOMPLETE: 10 of 600 episodes stored (run ended")


def test_without_a_status_nothing_is_claimed():
    assert incomplete_note({}) is None

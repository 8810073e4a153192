"""Hydra's own error text reaches the user (``config.hydra_message``, ``compose_config``)."""

import pytest

from harness.core.errors import ConfigError
from harness.experiment.config import compose_config, hydra_message


def test_the_options_list_is_kept_on_one_line_and_the_search_path_dropped():
    text = ("In 'config': Could not find 'experiment/smok'\n\nAvailable options in 'experiment':\n\tsmoke\n"
            "\ttable2\nConfig search path:\n\tprovider=hydra, path=pkg://hydra.conf\n")
    assert hydra_message(text) == ("In 'config': Could not find 'experiment/smok'",
                                   "Available options in 'experiment': smoke, table2")


def test_a_one_line_message_has_no_rest():
    assert hydra_message("Could not override 'foo'.") == ("Could not override 'foo'.", None)


def test_a_mistyped_experiment_lists_the_experiments():
    with pytest.raises(ConfigError) as caught:
        compose_config(["experiment=smok"])
    assert caught.value.message == "bad override or config: In 'config': Could not find 'experiment/smok'"
    assert caught.value.hint.startswith("Available options in 'experiment': ")
    assert "smoke" in caught.value.hint.split(", ") and "table2" in caught.value.hint.split(", ")


def test_an_unknown_key_keeps_hydras_advice():
    with pytest.raises(ConfigError) as caught:
        compose_config(["nope=1"])
    assert caught.value.hint == "To append to your config use +nope=1"


def test_a_bad_interpolation_is_a_config_error_naming_the_key():
    with pytest.raises(ConfigError) as caught:
        compose_config(["seed=${nope}"])
    assert "Interpolation key 'nope' not found" in caught.value.message and "full_key: seed" in caught.value.hint

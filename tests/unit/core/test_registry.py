"""The generic plug-in registry: discovery by folder scan, duplicates refused, options
validated by the plug-in's model with the config key named in the error."""

import sys
import textwrap

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, ConfigDict, Field

from harness.core.errors import ConfigError
from harness.core.registry import NoOptions, PluginError, Registry, plugin_modules


class Opts(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    timeout: float = Field(1.0, gt=0)
    label: str = "x"


def _registry() -> Registry:
    reg = Registry("widget")

    @reg.register("plain", options=Opts, color="red")
    def plain(options, *args, **context):
        return ("plain", options, args, context)

    @reg.register("bare")
    def bare(options):
        return ("bare", options)

    return reg


def test_build_validates_options_and_passes_context():
    reg = _registry()
    kind, options, args, context = reg.build("plain", {"timeout": 2}, 7, rng="r")
    assert (kind, options.timeout, options.label, args, context) == ("plain", 2.0, "x", (7,), {"rng": "r"})
    assert reg.entry("plain").meta["color"] == "red"
    assert reg.names() == ["bare", "plain"] and "plain" in reg and "nope" not in reg


def test_a_bad_value_names_the_full_key():
    with pytest.raises(ConfigError, match=r"layers\.tools\.config\.timeout.*'abc'"):
        _registry().options("plain", {"timeout": "abc"}, where="layers.tools.config")


def test_an_unknown_key_is_refused_by_name():
    with pytest.raises(ConfigError, match=r"agent\.colour"):
        _registry().options("plain", {"colour": 1}, where="agent")


def test_a_plugin_without_options_refuses_any():
    with pytest.raises(ConfigError, match=r"loop_options\.k"):
        _registry().options("bare", {"k": 1}, where="loop_options")
    assert isinstance(_registry().options("bare", None), NoOptions)


def test_an_unknown_name_lists_the_known_ones():
    with pytest.raises(ConfigError, match=r"layers\.tools\.variant: unknown widget 'nope'; known: bare, plain"):
        _registry().entry("nope", where="layers.tools.variant")


def test_a_name_registered_twice_is_refused():
    reg = _registry()
    with pytest.raises(PluginError, match="registered twice"):
        reg.register("plain")(lambda options: None)


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_validation_agrees_with_the_model(value):
    reg = _registry()
    if value > 0:
        assert reg.options("plain", {"timeout": value}).timeout == value
    else:
        with pytest.raises(ConfigError, match="timeout"):
            reg.options("plain", {"timeout": value})


def test_plugins_are_found_by_scanning_their_folder(tmp_path, monkeypatch):
    """The registry module never names its plug-ins: importing the folder registers them."""
    pkg = tmp_path / "fakeplugins"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (tmp_path / "fakereg.py").write_text(textwrap.dedent("""
        from harness.core.registry import Registry
        THINGS = Registry("thing", plugins="fakeplugins", skip={"heavy"})
    """))
    for name in ("alpha", "beta"):
        (pkg / f"{name}.py").write_text(f"from fakereg import THINGS\nTHINGS.register({name!r})(lambda o: {name!r})\n")
    (pkg / "heavy.py").write_text("raise RuntimeError('must not be imported')\n")
    (pkg / "_private.py").write_text("raise RuntimeError('must not be imported')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        import fakereg

        assert plugin_modules("fakeplugins", {"heavy"}) == ["fakeplugins.alpha", "fakeplugins.beta"]
        assert fakereg.THINGS.names() == ["alpha", "beta"]
        assert fakereg.THINGS.build("beta") == "beta"
    finally:
        for mod in [m for m in sys.modules if m.startswith(("fakeplugins", "fakereg"))]:
            del sys.modules[mod]


def test_a_substitute_stands_in_only_inside_its_block():
    reg = _registry()
    original = reg.entry("plain")
    stand_in = type(original)("plain", lambda options: "stand-in", NoOptions)
    with reg.substituted(stand_in):
        assert reg.build("plain") == "stand-in"
    assert reg.entry("plain") is original
    with reg.substituted(type(original)("new", lambda options: "new", NoOptions)):
        assert "new" in reg
    assert "new" not in reg

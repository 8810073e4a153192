"""Ctrl-C and SIGTERM during a run (``harness.experiment.interrupts``): raised as
KeyboardInterrupt in the main thread, deferred while an episode is being stored, the
process's own handlers put back afterwards, an ignored SIGINT left ignored."""

from __future__ import annotations

import os
import signal
import threading

import pytest

from harness.experiment.interrupts import Interrupts, RunStopped


def _deliver(sig: int) -> None:
    os.kill(os.getpid(), sig)


@pytest.fixture(autouse=True)
def sigint_as_in_a_terminal():
    """Python's own SIGINT handler for each test: a test process started in the background
    by a non-interactive shell inherits SIGINT ignored (and Python then keeps it ignored),
    which ``Interrupts`` rightly leaves alone."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_becomes_keyboard_interrupt_and_handlers_are_restored(sig):
    before = signal.getsignal(sig)
    interrupts = Interrupts()
    with pytest.raises(KeyboardInterrupt), interrupts.installed():
        _deliver(sig)
        for _ in range(1000):  # the handler runs between bytecodes of the main thread
            pass
    assert signal.getsignal(sig) is before


def test_inside_shielded_the_interrupt_waits_for_the_block_to_end():
    interrupts = Interrupts()
    finished = []
    with pytest.raises(KeyboardInterrupt), interrupts.installed(), interrupts.shielded():
        _deliver(signal.SIGINT)
        for _ in range(1000):
            pass
        finished.append("stored whole")  # reached: the interrupt did not cut the block
    assert finished == ["stored whole"]


def test_discard_forgets_an_interrupt_that_came_while_shielded():
    interrupts = Interrupts()
    with interrupts.installed(), interrupts.shielded():
        _deliver(signal.SIGINT)
        for _ in range(1000):
            pass
        interrupts.discard()
    assert not interrupts.pending  # and nothing was raised


def test_an_ignored_sigint_stays_ignored():
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        with Interrupts().installed():
            assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
            assert signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL  # SIGTERM is still taken
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, previous)


def test_off_the_main_thread_nothing_is_installed():
    seen = []

    def body():
        with Interrupts().installed():
            seen.append(signal.getsignal(signal.SIGTERM))

    before = signal.getsignal(signal.SIGTERM)
    thread = threading.Thread(target=body)
    thread.start()
    thread.join()
    assert seen == [before]


def test_run_stopped_is_a_keyboard_interrupt_with_the_counts():
    stop = RunStopped("r", 84, 600)
    assert isinstance(stop, KeyboardInterrupt) and (stop.stored, stop.planned) == (84, 600)

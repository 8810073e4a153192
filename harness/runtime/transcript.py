"""What an episode's transcript keeps of one action: its arguments and what the agent read.

Both are canonical text so that equal episodes store equal rows (resume, executors): the
arguments as canonical JSON, the observation as the agent received it (after the loop's
``deliver``, so a chatbot loop's text-only copy is what is kept), with no wall-clock content.
"""

from __future__ import annotations

from typing import Any

from harness.core.hashing import canonical_json
from harness.runtime.port import Call, Observation

# Arguments longer than this (as JSON) are kept as their start: a call that large is refused
# by the tools anyway (typed tools: 100,000 characters), and an agent sending megabytes must
# not make the store grow by megabytes per action.
ARGS_KEPT_CHARS = 200_000
ARGS_HEAD_CHARS = 2_000


def action_args(action: Any) -> str:
    """A tool call's arguments; for the other actions (history, telemetry, remember, recall)
    their fields, without the ``kind`` the tool column already names. Over ARGS_KEPT_CHARS,
    ``{"_truncated": {"chars": N, "head": <the first ARGS_HEAD_CHARS of the JSON>}}``."""
    if isinstance(action, Call):
        text = canonical_json(dict(action.args))
    else:
        text = canonical_json({k: v for k, v in action.model_dump(mode="json").items() if k != "kind"})
    if len(text) > ARGS_KEPT_CHARS:
        return canonical_json({"_truncated": {"chars": len(text), "head": text[:ARGS_HEAD_CHARS]}})
    return text


def observation_text(obs: Observation) -> str:
    """A human layer's text as it is; a structured one's content as canonical JSON
    (ok, data, error, and text when a structured observation also has some)."""
    if not obs.structured:
        return obs.text or ""
    payload: dict[str, Any] = {"ok": obs.ok}
    if obs.data is not None:
        payload["data"] = obs.data
    if obs.error is not None:
        payload["error"] = obs.error.model_dump(mode="json", exclude_none=True)
    if obs.text is not None:
        payload["text"] = obs.text
    return canonical_json(payload)

"""The agent process: runs an outside agent's code in the sandbox, far from the harness.

Not imported by the harness. It is copied into a sandbox beside a *port kit* (the
harness's ``port``, ``models``, ``rng`` and ``hashing`` modules and nothing else) and the
agent's own package, and started as
``python -I -S -B process_main.py KIT AGENT_DIR SITE IMPORT_PATH OPTIONS_JSON``.

It imports the agent's class once, then serves runs as a fork server (``sandbox_child``):
for each ``start`` it forks a child that builds the agent and drives its generator,
exchanging one JSON line per message over a private copy of the pipes the harness gave
it (the agent's own prints go to the log, its reads of stdin see nothing). When the
child is gone, every other process in the sandbox's pid namespace is killed and the
writable root is emptied, so nothing one run leaves behind reaches the next. The harness
in turn never executes anything this process says; it only parses actions out of it.
"""

import importlib
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # -I leaves the script's directory out
from sandbox_child import error_message, fork_server, open_channel  # noqa: E402


def _streams(rng_module, spec):
    streams = rng_module.RngStreams(spec["root_seed"], spec["task_id"], spec["repeat"])
    streams.restore(spec["state"])
    return streams


def _agent_state(streams):
    return {k: v for k, v in streams.state().items() if k.startswith("agent.")}


def serve_run(channel, cls, options, request):
    """One agent generator, from ``start`` to its end; runs in the forked child."""
    from harness.core import rng as rng_module
    from harness.core.models import Brief
    from harness.runtime.port import Observation, ToolSpec

    brief = Brief.model_validate(request["brief"])
    streams = _streams(rng_module, request["rng"])
    agent = cls(**options)
    if request.get("probe") is not None:
        def recall(query, k=5):
            channel.send({"op": "recall", "query": str(query), "k": int(k)})
            return list(channel.receive()["items"])
        answer = agent.answer_probe(request["probe"], brief, recall)
        channel.send({"op": "answer", "text": str(answer or "")})
        return
    tools = [ToolSpec.model_validate(t) for t in request["tools"]]
    steps = agent.run(brief, tools, rng_module.AgentStreams(streams))
    observation = None
    first = True
    while True:
        try:
            action = next(steps) if first else steps.send(observation)
        except StopIteration:
            channel.send({"op": "done", "rng": _agent_state(streams)})
            return
        first = False
        dump = getattr(action, "model_dump", None)
        if dump is None:
            raise TypeError(f"agent yielded {type(action).__name__}, not an Action")
        channel.send({"op": "action", "action": dump(mode="json"), "rng": _agent_state(streams)})
        reply = channel.receive()
        if reply["op"] == "close":
            steps.close()
            return
        observation = None if reply["observation"] is None else Observation.model_validate(reply["observation"])


def main(argv):
    kit, agent_dir, site, import_path, options = argv[1], argv[2], argv[3], argv[4], json.loads(argv[5])
    sys.path[1:1] = [kit, agent_dir]
    sys.path.append(site)
    channel = open_channel()
    try:
        module_name, _, attr = import_path.partition(":")
        cls = getattr(importlib.import_module(module_name), attr)
    except BaseException as exc:  # noqa: BLE001 - reported, the harness decides
        channel.send(error_message(exc))
        return
    channel.send({"op": "hello", "probe": callable(getattr(cls, "answer_probe", None))})
    fork_server(channel, lambda channel, request: serve_run(channel, cls, options, request))


if __name__ == "__main__":
    main(sys.argv)

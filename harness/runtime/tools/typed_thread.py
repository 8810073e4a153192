"""Typed tools over the task's ticket thread: post a comment, read the thread.

The thread outlives every session in every condition, as a ticket does; these tools are
how an agent on typed tools writes down what a later session will need and finds it
again. Comments come back as data, so nothing in them is misread.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from harness.runtime.access import Access, AccessRule
from harness.runtime.port import ToolAnnotations
from harness.runtime.tools.typed_models import READ_ONLY, Args, ToolDef
from harness.runtime.tools.typed_ops import Handler, guarded
from harness.world import World
from harness.world.thread import MAX_COMMENT_CHARS


class CommentArgs(Args):
    text: str = Field(min_length=1, max_length=MAX_COMMENT_CHARS, description="The comment to post on the ticket.")


class ReadThreadArgs(Args):
    contains: str | None = Field(None, description="Only comments containing this text (case-insensitive).")


def _comment(world: World, a: CommentArgs) -> dict[str, Any]:
    return {"comment": guarded(lambda: world.thread.add(a.text), "text")}


def _read(world: World, a: ReadThreadArgs) -> dict[str, Any]:
    comments = world.thread.matching(a.contains)
    return {"comments": [{"n": c["n"], "author": c["author"], "text": c["text"]} for c in comments],
            "count": len(comments)}


# (name, description, arguments, annotations, handler, access rule): the thread is one resource.
_TOOLS: tuple[tuple[str, str, type[Args], ToolAnnotations, Handler, AccessRule], ...] = (
    ("ticket_comment", "Post a comment on the task's ticket (kept across sessions). Returns {comment}.",
     CommentArgs, ToolAnnotations(), _comment, lambda a: [Access("write", "ticket:")]),
    ("ticket_read", "Read the comments on the task's ticket, oldest first. Returns {comments:[{n, author, "
     "text}], count}.", ReadThreadArgs, READ_ONLY, _read, lambda a: [Access("read", "ticket:")]),
)

THREAD_TOOL_DEFS: tuple[ToolDef, ...] = tuple(
    ToolDef(name=n, description=d, args=m, annotations=ann, access=acc) for n, d, m, ann, _, acc in _TOOLS
)
THREAD_HANDLERS: dict[str, Handler] = {n: h for n, _, _, _, h, _ in _TOOLS}

"""A policy compiler: a small controlled-English language -> a ``CapabilitySet``.

The language (``DOCS`` below is the reference; the same text is this docstring)::

    policy    := sentence { ("." | ";" | newline) sentence }      lines starting "#" are comments
    sentence  := rule [limits] | limits
    rule      := "may" ["not"] verbs target
    verbs     := VERB { ("," | "and" | "or") VERB }
    VERB      := read | write | create | delete | rename | restart | start | stop | deploy
               | query | execute | issue | revoke
    target    := files | "the file" PATH | services | tables | logs | credentials | commands
               | "the ticket" | "anything"
    files     := ("files" | "any file" | "all files") { "matching" GLOB | "under" DIRS
                                                      | "in" DIRS | "on host" NAME | "on any host" }
    services  := "services in" ENV | "services" NAMES | "service" NAME
               | ("any" | "all") ("service" | "services")
    tables    := "tables" NAMES | "table" NAME | ("any" | "all") ("table" | "tables")
    logs      := "logs of" services
    credentials := ("any" | "all") ("credential" | "credentials") | "credentials of" services
    commands  := "commands" ["matching" GLOB]
    NAMES     := NAME { ("," | "and") NAME }          (DIRS likewise)
    limits    := { "for" N ("minute" | "minutes" | "hour" | "hours") | "at most" N ("time" | "times") }

Keywords are case-insensitive; names, paths and globs keep their case. Resources
(``patterns`` documents the glob language):

=================================  ======================================
``files under src/``               ``file:src/**``
``files matching *.py under src/`` ``file:src/**/*.py`` (any depth)
``files matching *.md``            ``file:**/*.md``
``the file src/app.py``            ``file:src/app.py``
``files under /var/log/ on host db-1``  ``host:db-1:/var/log/**``
``services in staging``            ``service:staging/*``
``services api and web``           ``service:api``, ``service:web``
``any service``                    ``service:**``
``tables orders and customers``    ``table:orders``, ``table:customers``
``logs of any service``            ``log:**`` (``logs of services in prod``: ``log:prod/*``)
``credentials of service api``     ``credential:api/**``
``any credential``                 ``credential:**``
``commands matching pytest*``      ``command:pytest*``
``the ticket``                     ``ticket:**`` (the task's ticket thread)
``anything``                       ``*:**``
=================================  ======================================

Semantics. "may" sentences grant one root capability per resource pattern, with all the
sentence's verbs. "may not" sentences are deny rules; a deny rule wins over every grant,
whatever the order of the sentences. "for N minutes" makes the grant expire N simulated
minutes after the compile time ``now``; "at most N times" limits each of the rule's
patterns to N authorizations. A sentence made only of limits applies them to the rule
just before it (which must be a "may" rule without those limits). Limits on a "may not"
rule are an error: a denial does not wear off.

Errors. A sentence outside the language raises ``PolicyError`` naming the sentence
(1-based index among the non-empty sentences, and its text), what was expected and what
was found. Every sentence is parsed before anything is built, so an error never leaves
a partial policy.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from harness.core.errors import ConfigError
from harness.runtime.security.capabilities import CapabilitySet, Denial

DOCS = __doc__ or ""
docs = DOCS  # the name the issue asked for; DOCS is the conventional constant

VERBS = ("read", "write", "create", "delete", "rename", "restart", "start", "stop", "deploy",
         "query", "execute", "issue", "revoke")
_END = "<end of sentence>"
_LIMITS = "'for N minutes', 'at most N times' or the end of the sentence"


class PolicyError(ConfigError):
    """A policy sentence outside the language; nothing of the policy is compiled."""

    def __init__(self, index: int, sentence: str, expected: str, got: str):
        self.index, self.sentence, self.expected, self.got = index, sentence, expected, got
        super().__init__(f'policy sentence {index} "{sentence}": expected {expected}, got {got}',
                         hint="see harness.runtime.security.policy.DOCS for the language")


@dataclass
class Rule:
    index: int
    text: str
    allow: bool | None  # None: a limits-only sentence
    actions: tuple[str, ...] = ()
    resources: list[str] = field(default_factory=list)
    minutes: float | None = None
    times: int | None = None


class _Expect(Exception):
    def __init__(self, expected: str, got: str):
        self.expected, self.got = expected, got


def sentences(policy: str | list[str]) -> list[str]:
    """Split a policy into sentences: on newlines, ';' and a '.' that ends a word
    (a '.' inside ``*.py`` or ``app.py`` does not end a sentence)."""
    texts = [policy] if isinstance(policy, str) else list(policy)
    out: list[str] = []
    for text in texts:
        for line in text.splitlines():
            if line.strip().startswith("#"):
                continue
            for part in re.split(r";|\.(?=\s|$)", line):
                if part.strip():
                    out.append(" ".join(part.split()))
    return out


class _Parser:
    def __init__(self, text: str):
        self.toks = re.findall(r",|[^\s,]+", text)
        self.i = 0

    def peek(self, k: int = 0) -> str | None:
        j = self.i + k
        return self.toks[j].lower() if j < len(self.toks) else None

    def got(self) -> str:
        return repr(self.toks[self.i]) if self.i < len(self.toks) else _END

    def take(self, *words: str) -> bool:
        if self.peek() in words:
            self.i += 1
            return True
        return False

    def need(self, *words: str) -> str:
        if self.peek() not in words:
            raise _Expect(" or ".join(repr(w) for w in words), self.got())
        self.i += 1
        return self.toks[self.i - 1].lower()

    def word(self, what: str) -> str:
        if self.i >= len(self.toks) or self.toks[self.i] == ",":
            raise _Expect(what, self.got())
        self.i += 1
        return self.toks[self.i - 1]

    def words(self, what: str) -> list[str]:
        out = [self.word(what)]
        while self.peek() in (",", "and"):
            self.i += 1
            self.take("and")  # ", and"
            out.append(self.word(what))
        return out

    def number(self, what: str) -> float:
        tok = self.word(what)
        try:
            n = float(tok)
        except ValueError:
            raise _Expect(what, repr(tok)) from None
        if not n > 0:
            raise _Expect(what, repr(tok))
        return n

    # -- grammar ------------------------------------------------------------------------
    def sentence(self, index: int, text: str) -> Rule:
        if self.peek() in ("for", "at"):
            rule = Rule(index, text, None)
        else:
            self.need("may")
            rule = Rule(index, text, not self.take("not"))
            rule.actions = self.verbs()
            rule.resources = self.target()
        self.limits(rule)
        if rule.allow is None and rule.minutes is None and rule.times is None:
            raise _Expect(_LIMITS, self.got())
        return rule

    def verbs(self) -> tuple[str, ...]:
        out = [self.verb()]
        while self.peek() in (",", "and", "or"):
            self.i += 1
            self.take("and", "or")
            out.append(self.verb())
        return tuple(dict.fromkeys(out))

    def verb(self) -> str:
        if self.peek() not in VERBS:
            raise _Expect(f"a verb ({', '.join(VERBS)})", self.got())
        self.i += 1
        return self.toks[self.i - 1].lower()

    def target(self) -> list[str]:
        w = self.peek()
        if w in ("any", "all"):
            nxt = self.peek(1)
            if nxt in ("file", "files"):
                self.i += 2
                return self.files()
            if nxt in ("service", "services"):
                self.i += 2
                return ["service:**"]
            if nxt in ("table", "tables"):
                self.i += 2
                return ["table:*"]
            if nxt in ("credential", "credentials"):
                self.i += 2
                return ["credential:**"]
            self.i += 1
            raise _Expect("'files', 'services', 'tables' or 'credentials'", self.got())
        if self.take("credentials"):
            self.need("of")
            return ["credential:" + p.rstrip("*").rstrip("/") + "/**" if p != "**" else "credential:**"
                    for p in self.services()]
        if self.take("files"):
            return self.files()
        if self.take("the"):
            if self.take("ticket"):
                return ["ticket:**"]
            self.need("file")
            return ["file:" + self.word("a file path")]
        if w in ("services", "service"):
            return ["service:" + p for p in self.services()]
        if self.take("tables"):
            return ["table:" + n for n in self.words("a table name")]
        if self.take("table"):
            return ["table:" + self.word("a table name")]
        if self.take("logs"):
            self.need("of")
            return ["log:" + p for p in self.services()]
        if self.take("commands"):
            return ["command:" + (self.word("a command glob") if self.take("matching") else "**")]
        if self.take("anything"):
            return ["*:**"]
        raise _Expect("a target ('files', 'the file', 'the ticket', 'services', 'tables', 'logs of', "
                      "'commands', 'anything')", self.got())

    def services(self) -> list[str]:
        if self.take("any", "all"):
            self.need("service", "services")
            return ["**"]
        if self.take("service"):
            return [self.word("a service name")]
        self.need("services")
        if self.take("in"):
            return [env.strip("/") + "/*" for env in self.words("an environment name")]
        return self.words("service names or 'in' ENV")

    def files(self) -> list[str]:
        glob: str | None = None
        dirs: list[str] | None = None
        host: str | None = None
        while self.peek() in ("matching", "under", "in", "on"):
            kw = self.toks[self.i].lower()
            self.i += 1
            if kw == "matching" and glob is None:
                glob = self.word("a file glob")
            elif kw in ("under", "in") and dirs is None:
                dirs = self.words("a directory")
            elif kw == "on" and host is None:
                if self.take("any"):
                    self.need("host")
                    host = "*"
                else:
                    self.need("host")
                    host = self.word("a host name")
            else:
                raise _Expect(f"at most one '{kw}' clause", repr(self.toks[self.i - 1]))
        tail = "**" if glob is None else "**/" + glob
        out = []
        for d in dirs or [""]:
            d = d[2:] if d.startswith("./") else d
            stem = d.rstrip("/")
            prefix = stem + "/" if stem else ("/" if d.startswith("/") else "")
            out.append(prefix + tail)
        kind = "file:" if host is None else f"host:{host}:"
        return [kind + p for p in out]

    def limits(self, rule: Rule) -> None:
        while self.i < len(self.toks):
            w = self.peek()
            if w == "for" and rule.minutes is None:
                self.i += 1
                n = self.number("a positive number of minutes or hours")
                unit = self.need("minute", "minutes", "min", "hour", "hours")
                rule.minutes = n * 60 if unit.startswith("hour") else n
            elif w == "at" and rule.times is None:
                self.i += 1
                self.need("most")
                n = self.number("a positive whole number of times")
                if n != int(n):
                    raise _Expect("a positive whole number of times", repr(self.toks[self.i - 1]))
                rule.times = int(n)
                self.need("time", "times")
            elif w in ("for", "at"):
                raise _Expect(_LIMITS, f"a second {w!r} limit")
            else:
                raise _Expect(_LIMITS, self.got())


def parse(policy: str | list[str]) -> list[Rule]:
    """Every sentence parsed, limits-only sentences merged into their rule."""
    rules: list[Rule] = []
    for index, text in enumerate(sentences(policy), start=1):
        p = _Parser(text)
        try:
            rule = p.sentence(index, text)
        except _Expect as e:
            raise PolicyError(index, text, e.expected, e.got) from None
        if rule.allow is None:
            prev = rules[-1] if rules else None
            if prev is None or not prev.allow:
                raise PolicyError(index, text, "a 'may' sentence before a limits-only sentence",
                                  "no rule to limit" if prev is None else "a 'may not' rule")
            if (rule.minutes is not None and prev.minutes is not None) or (
                    rule.times is not None and prev.times is not None):
                raise PolicyError(index, text, "limits the previous rule does not already have",
                                  "a repeated limit")
            prev.minutes = prev.minutes if rule.minutes is None else rule.minutes
            prev.times = prev.times if rule.times is None else rule.times
            continue
        if not rule.allow and (rule.minutes is not None or rule.times is not None):
            raise PolicyError(index, text, "no limits on a 'may not' rule (a denial does not wear off)",
                              "'for'/'at most'")
        rules.append(rule)
    return rules


def compile_policy(policy: str | list[str], *, now: float = 0.0, max_depth: int = 3) -> CapabilitySet:
    """Compile a whole policy or raise ``PolicyError``; never a partial set."""
    rules = parse(policy)
    caps = CapabilitySet(max_depth=max_depth)
    for rule in rules:
        for resource in rule.resources:
            if rule.allow:
                expiry = None if rule.minutes is None else now + rule.minutes
                caps.grant(resource, rule.actions, expiry=expiry, uses=rule.times)
            else:
                caps.deny(Denial(resource=resource, actions=frozenset(rule.actions),
                                 source=f"sentence {rule.index}: {rule.text}"))
    return caps

"""A command line being written: every flag looked up in the engine version's table before it is used."""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field

from .flags import EngineVersion, source_url


class ShellWords(str):
    """A value the shell expands into words itself (`$(seq ...)`): written unquoted."""


def _quoted(word: str) -> str:
    return word if isinstance(word, ShellWords) else shlex.quote(word)


@dataclass
class Command:
    """One command to run (program, flags, environment) for one engine version; flags are checked as added."""

    engine: EngineVersion
    program: list[str]
    role: str                                           # "engine", "router"
    env: dict[str, str] = field(default_factory=dict)
    args: list[str] = field(default_factory=list)
    used: list[dict] = field(default_factory=list)      # the flags with their sources, for the page's table

    def flag(self, name: str, value: object = None, why: str = "") -> "Command":
        """Add `name [value ...]` (a list: several values); a KeyError when this engine version has no such flag."""
        checked = self.engine.flag(name)
        values = [] if value is None else [v if isinstance(v, str) else str(v) for v in value] \
            if isinstance(value, list) else [str(value)]
        for v in values:
            if checked.choices and v not in checked.choices:
                raise ValueError(f"{name} {v}: not one of {', '.join(checked.choices)} in {self.engine.engine} "
                                 f"{self.engine.version}")
        self.args.append(name)
        self.args.extend(values)
        self._record(checked.name, " ".join(values) if values else None, why)
        return self

    def variable(self, name: str, value: object, why: str = "") -> "Command":
        """Set an environment variable the engine (or its connector) reads."""
        checked = self.engine.flag(name)
        self.env[name] = str(value)
        self._record(checked.name, value, why)
        return self

    def key(self, name: str) -> str:
        """A name that is not a flag (a connector, a JSON key), checked in the table; returns its value part."""
        checked = self.engine.flag(name)
        self._record(checked.name, None, "")
        return checked.name.split("=", 1)[-1].rsplit(".", 1)[-1]

    def _record(self, name: str, value: object, why: str) -> None:
        f = self.engine.flag(name)
        self.used.append({"name": name, "value": None if value is None else str(value), "why": why,
                          "meaning": f.meaning, "engine": self.engine.engine, "version": self.engine.version,
                          "source": f"{f.source}:{f.line}", "source_url": source_url(self.engine, f)})

    @property
    def argv(self) -> list[str]:
        return [*self.program, *self.args]

    def shell(self) -> str:
        """The command as one shell line per variable and per flag, quoted for POSIX shells."""
        # each variable on its own line too: a shell reads `A=1 \<newline> B=2 \<newline> cmd` as one command
        lines = [f"{k}={shlex.quote(v)}" for k, v in self.env.items()]
        lines.append(" ".join(map(shlex.quote, self.program)))
        for arg in self.args:
            if arg.startswith("--") or len(lines) == len(self.env) + 1:
                lines.append("  " + _quoted(arg))
            else:
                lines[-1] += " " + _quoted(arg)
        return " \\\n".join(lines)

    def as_json(self) -> dict:
        return {"role": self.role, "engine": self.engine.engine, "version": self.engine.version,
                "argv": self.argv, "env": dict(self.env), "shell": self.shell()}

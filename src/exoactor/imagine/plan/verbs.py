"""The template planner's verb table: how each household verb is recognised and described.

The table is data, ``exoactor/data/plan_verbs.toml`` (one ``[[verb]]`` entry a verb, tried in
order for each clause); adding a verb is an entry there plus a test of its sentence.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from importlib import resources

from exoactor.imagine.errors import PlanError


@dataclass(frozen=True)
class VerbTemplate:
    """How one household verb is recognised and described.

    Attributes:
        verb: canonical verb name written into the plan.
        patterns: regular expressions over a lower-case clause; named groups ``target``,
            ``destination`` and ``place`` (where an object is taken from) are read.
        description: the step as a sentence fragment after "the person", with ``{target}``,
            ``{destination}`` placeholders.
        execution: how it is performed (Execution section).
        end_state: what is seen once it is done (End state section if it is the last step).
        duration_s: rough duration at a natural pace [s].
        approach: which object the person must stand at first: ``"target"``,
            ``"destination"``, ``"place"`` or None.
        picks: the step leaves the target in the person's hand.
        releases: the step leaves the hand empty.
    """

    verb: str
    patterns: tuple[str, ...]
    description: str
    execution: str
    end_state: str
    duration_s: float
    approach: str | None = None
    picks: bool = False
    releases: bool = False
    compiled: tuple[re.Pattern[str], ...] = field(default=(), repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "compiled", tuple(re.compile(p) for p in self.patterns))


def load_verbs(text: str | None = None) -> tuple[VerbTemplate, ...]:
    """The verb table from TOML ``text`` (None: the packaged ``plan_verbs.toml``)."""
    if text is None:
        text = resources.files("exoactor.data").joinpath("plan_verbs.toml").read_text("utf-8")
    try:
        entries = tomllib.loads(text)["verb"]
        return tuple(VerbTemplate(**{**e, "patterns": tuple(e["patterns"])}) for e in entries)
    except (tomllib.TOMLDecodeError, KeyError, TypeError, re.error) as exc:
        raise PlanError(f"verb table: {exc}; each [[verb]] needs verb, patterns, description, "
                        "execution, end_state and duration_s") from exc


VERBS: tuple[VerbTemplate, ...] = load_verbs()
"""The verb table, tried in order for each clause."""

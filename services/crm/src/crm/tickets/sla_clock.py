"""The SLA clock of one ticket, derived from its own history (pure, no I/O).

A history is a list of facts in time order: created, status, changed (priority, category, channel, segment),
policy (an explicit switch), agent_reply, customer_reply. The clock folds them: between two facts, each running
target consumes working time of the calendar of the policy then in force; a pause status stops every clock (and
counts paused time); resolved and closed stop the resolution clock, a reopen lets it continue from what it had
consumed (never an instant breach for being reopened). A priority change or a policy switch changes the targets,
never what was consumed, so the new deadline is "the rest of the new target from now".

Because a state is a plain fold, it can be frozen after any fact (`Clock.to_dict`) and resumed later
(`Clock.from_dict`): replaying the whole history gives the same answer as applying facts one by one as they come.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from . import business_time as bt

TARGETS = ("first_response", "next_response", "resolution")
STOPPED = ("resolved", "closed")


@dataclass(frozen=True)
class Policy:
    """Targets (None: not measured) on a calendar, with the statuses that pause every clock."""

    id: str
    name: str
    calendar: bt.Calendar
    first_response: timedelta | None
    next_response: timedelta | None
    resolution: timedelta | None
    pause_statuses: frozenset[str] = frozenset({"pending", "on_hold"})

    def target(self, name: str) -> timedelta | None:
        return getattr(self, name)


@dataclass(frozen=True)
class Fact:
    at: datetime
    kind: str  # created | status | changed | policy | agent_reply | customer_reply
    data: dict = field(default_factory=dict)


# attributes -> (policy, reason); an explicit policy id in the attributes wins
Resolver = Callable[[dict], tuple[Policy | None, str]]


@dataclass
class Result:
    policy_id: str | None
    reason: str
    due: dict[str, datetime | None]
    breached: dict[str, datetime]
    consumed: dict[str, timedelta]
    paused: timedelta
    running: bool

    @property
    def breached_at(self) -> datetime | None:
        return min(self.breached.values()) if self.breached else None

    def due_at(self, name: str) -> datetime | None:
        return self.due.get(name)


def _add(calendar: bt.Calendar, start: datetime, duration: timedelta) -> datetime | None:
    """The deadline, or None when the calendar has no working time left (its closed days cover years ahead)."""
    try:
        return bt.add(calendar, start, duration)
    except bt.CalendarError:
        return None


class Clock:
    """The fold over a ticket's facts."""

    def __init__(self, resolver: Resolver):
        self.resolver = resolver
        self.attrs: dict = {}
        self.status: str | None = None
        self.last: datetime | None = None
        self.active: dict[str, bool] = dict.fromkeys(TARGETS, False)
        self.consumed: dict[str, timedelta] = dict.fromkeys(TARGETS, timedelta(0))
        self.breached: dict[str, datetime] = {}
        self.paused = timedelta(0)

    # -- freezing, for the incremental computation
    def to_dict(self) -> dict:
        return {"attrs": dict(self.attrs), "status": self.status,
                "last": self.last.isoformat() if self.last else None, "active": dict(self.active),
                "consumed": {k: v.total_seconds() for k, v in self.consumed.items()},
                "breached": {k: v.isoformat() for k, v in self.breached.items()},
                "paused": self.paused.total_seconds()}

    @classmethod
    def from_dict(cls, resolver: Resolver, state: dict) -> "Clock":
        clock = cls(resolver)
        clock.attrs = dict(state["attrs"])
        clock.status = state["status"]
        clock.last = datetime.fromisoformat(state["last"]) if state["last"] else None
        clock.active = dict(state["active"])
        clock.consumed = {k: timedelta(seconds=v) for k, v in state["consumed"].items()}
        clock.breached = {k: datetime.fromisoformat(v) for k, v in state["breached"].items()}
        clock.paused = timedelta(seconds=state["paused"])
        return clock

    # -- the fold
    def policy(self) -> tuple[Policy | None, str]:
        return self.resolver(self.attrs)

    def _running(self, policy: Policy | None) -> bool:
        return policy is not None and self.status not in policy.pause_statuses

    def advance(self, to: datetime) -> None:
        """Let working time from the last fact to `to` count on every running target."""
        if self.last is None or to <= self.last:
            self.last = to if self.last is None else self.last
            return
        policy, _ = self.policy()
        if policy is not None and self.status in policy.pause_statuses:
            self.paused += to - self.last
        if self._running(policy):
            for name in TARGETS:
                target = policy.target(name)
                if not self.active[name] or target is None:
                    continue
                worked = bt.between(policy.calendar, self.last, to)
                if name not in self.breached and self.consumed[name] + worked > target:
                    self.breached[name] = _add(policy.calendar, self.last, target - self.consumed[name]) or to
                self.consumed[name] += worked
        self.last = to

    def _check_targets(self, at: datetime) -> None:
        """A smaller target (new priority or policy) already used up counts as breached from that moment, or from
        the moment the clock runs again when it is paused or stopped (a pause never brings a breach forward)."""
        policy, _ = self.policy()
        if not self._running(policy):
            return
        for name in TARGETS:
            target = policy.target(name)
            if self.active[name] and target is not None and name not in self.breached \
                    and self.consumed[name] > target:
                self.breached[name] = at

    def apply(self, fact: Fact) -> None:
        self.advance(fact.at)
        data = fact.data
        if fact.kind == "created":
            self.attrs = {k: v for k, v in data.items() if k != "status"}
            self.status = data.get("status", "new")
            self.active["first_response"] = True
            self.active["resolution"] = self.status not in STOPPED
        elif fact.kind == "status":
            self.status = data["status"]
            self.active["resolution"] = self.status not in STOPPED
            if self.status in STOPPED:
                self.active["next_response"] = False
        elif fact.kind in ("changed", "policy"):
            self.attrs.update(data)
        elif fact.kind == "agent_reply":
            self.active["first_response"] = False
            self.active["next_response"] = False
        elif fact.kind == "customer_reply":
            if not self.active["first_response"] and self.status not in STOPPED:
                self.active["next_response"] = True
                self.consumed["next_response"] = timedelta(0)  # a past breach stays recorded
        self._check_targets(fact.at)

    def result(self, as_of: datetime | None = None) -> Result:
        """Deadlines as of `as_of` (default: the last fact); a paused or stopped target has no due time."""
        if as_of is not None:
            self.advance(as_of)
        policy, reason = self.policy()
        due: dict[str, datetime | None] = dict.fromkeys(TARGETS)
        running = self._running(policy)
        if policy is not None and running and self.last is not None:
            for name in TARGETS:
                target = policy.target(name)
                if self.active[name] and target is not None:
                    due[name] = (self.breached[name] if self.consumed[name] >= target and name in self.breached
                                 else _add(policy.calendar, self.last, target - self.consumed[name]))
        return Result(policy.id if policy else None, reason, due, dict(self.breached), dict(self.consumed),
                      self.paused, running)


def replay(resolver: Resolver, facts: Iterable[Fact], as_of: datetime | None = None) -> Result:
    """The clock recomputed from the whole history, as of a moment (facts after it are ignored)."""
    clock = Clock(resolver)
    for fact in facts:
        if as_of is not None and fact.at > as_of:
            break
        clock.apply(fact)
    return clock.result(as_of)

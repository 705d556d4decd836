"""Who caused an event, the one way both services write and read it.

A publishing use case passes its actor (a Principal, a plain label such as "ERP", or None for the system) through
`actor_extensions`; the event then carries the user's id in the `actor` extension and their email (or the plain
label) in `actorname`. `actor_label` names the actor in a service's own records.
A consuming handler reads them back with `actor_of(event)` and labels them for its own audit trail with
`EventActor.label(source)`: "crm:ada@example.com (5b0f…)", "crm:5b0f…", or the fallback when nobody is named.
"""

from dataclasses import dataclass

from cloudevents.core.v1.event import CloudEvent


def actor_extensions(actor) -> dict:
    """The keyword arguments of envelope.new_event naming `actor`: actor_id and actor_name (None when unknown)."""
    if actor is None:
        return {"actor_id": None, "actor_name": None}
    if isinstance(actor, str):
        return {"actor_id": None, "actor_name": actor}
    return {"actor_id": getattr(actor, "user_id", None), "actor_name": getattr(actor, "email", None)}


def actor_label(actor, default: str | None = None) -> str | None:
    """How a service's own records name who did something (created_by, decided_by...): a Principal's label
    ("ada@example.com (5b0f…)"), a plain label as it is, else `default`."""
    if isinstance(actor, str):
        return actor or default
    return getattr(actor, "label", None) or default


@dataclass(frozen=True)
class EventActor:
    id: str | None
    name: str | None

    def label(self, source: str, fallback: str | None = None) -> str | None:
        """How the consuming service's audit names the actor: "<source>:<name> (<id>)", or with only one of
        them "<source>:<it>"; `fallback` when the event names nobody."""
        if self.id and self.name:
            return f"{source}:{self.name} ({self.id})"
        if self.id or self.name:
            return f"{source}:{self.id or self.name}"
        return fallback


def actor_of(event: CloudEvent, name: str | None = None) -> EventActor:
    """The actor an event names; `name` stands in when the event carries no actor name (e.g. the data's
    `placed_by`)."""
    return EventActor(event.get_extension("actor"), event.get_extension("actorname") or name)

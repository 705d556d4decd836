"""Which audit entries a CRM user may read: only those about records they may see, so the trail never shows a
record that answers 404 to the same user (administrators see everything; servicekit hides login addresses)."""

from servicekit.auth.principal import Principal
from sqlalchemy import ColumnElement, String, Table, and_, cast, false, or_, select

from .access.models import TeamMember
from .activities.models import Activity
from .activities.service import visible_activities
from .deals.models import Deal
from .deals.service import visible_deals
from .leads.models import Lead
from .leads.service import visible_leads
from .parties.models import Party
from .parties.service import visible_parties
from .quotes.models import Quote
from .quotes.service import visible_quotes
from .tasks.models import Task
from .tasks.service import visible_tasks

# entity_type in the trail -> (model, "who may see it" predicate)
RECORDS = {
    "party": (Party, visible_parties),
    "deal": (Deal, visible_deals),
    "lead": (Lead, visible_leads),
    "task": (Task, visible_tasks),
    "activity": (Activity, visible_activities),
    "quote": (Quote, visible_quotes),
}

# configuration whose entries anyone allowed to read or manage it may see (no personal data in them)
SETTINGS = {
    "pipeline": "pipelines:read",
    "activity_type": "activities:read",
    "lead_form": "lead_forms:manage",
}

# users, tokens and roles: only those who administer users see their history
ADMINISTRATION = {"user": "users:update", "api_token": "users:update", "role": "roles:update"}


def audit_scope(actor: Principal, trail: Table) -> ColumnElement:
    """SQL predicate over the audit table: entries about records `actor` may see."""
    allowed = [
        and_(trail.c.entity_type == entity_type,
             trail.c.entity_id.in_(select(cast(model.id, String)).where(predicate(actor))))
        for entity_type, (model, predicate) in RECORDS.items()
    ]
    allowed += [trail.c.entity_type == t for t, permission in SETTINGS.items() if actor.can(permission)]
    allowed += [trail.c.entity_type == t for t, permission in ADMINISTRATION.items() if actor.can(permission)]
    # teams the user belongs to; their own exports
    allowed.append(and_(trail.c.entity_type == "team", trail.c.entity_id.in_(
        select(cast(TeamMember.team_id, String)).where(TeamMember.user_id == actor.user_id))))
    allowed.append(and_(trail.c.entity_type == "export", trail.c.actor_id == actor.user_id))
    return or_(*allowed) if allowed else false()

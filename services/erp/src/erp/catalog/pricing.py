"""Which price applies: the rule lives in shared_events.pricing, so the CRM quotes with the very same one."""

from shared_events.pricing import Candidate, ResolvedPrice, resolve_price  # noqa: F401

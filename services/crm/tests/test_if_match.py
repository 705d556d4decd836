"""Every change to an existing CRM record needs If-Match, or is listed here with the reason it does not.

The walk covers the URL map, so a new endpoint must choose; the OpenAPI document must declare what the view does.
"""

from servicekit.testing import if_match_documentation_gaps, if_match_gaps

# (method, rule) -> why it takes no If-Match
NO_IF_MATCH = {
    **{(m, "/api/v1/catalog"): "answers 405: the catalog is the ERP's" for m in ("POST", "PUT", "PATCH", "DELETE")},
    **{(m, "/api/v1/catalog/<path:rest>"): "answers 405: the catalog is the ERP's"
       for m in ("POST", "PUT", "PATCH", "DELETE")},
    ("POST", "/api/v1/public/lead-forms/<string:form_key>/submissions"): "public capture: creates a lead",
    ("DELETE", "/api/v1/me/tokens/<uuid:token_id>"): "revoking is idempotent and final",
    ("DELETE", "/api/v1/roles/<string:name>"): "deleting a role is final and checked against its holders",
    ("POST", "/api/v1/imports/<uuid:import_id>/revert"): "a batch is reverted once; a second revert is 409",
    ("POST", "/api/v1/lead-forms/<uuid:form_id>/rotate-key"): "rotating is always safe to repeat",
    ("POST", "/api/v1/teams/<uuid:team_id>/members"): "adds or sets one membership (idempotent)",
    ("DELETE", "/api/v1/teams/<uuid:team_id>/members/<uuid:user_id>"): "removes one membership (idempotent)",
    **{("POST", f"/api/v1/{kind}/<uuid:{key}>/assign"): "assigning sets one field to a given owner (idempotent)"
       for kind, key in (("parties", "party_id"), ("deals", "deal_id"), ("leads", "lead_id"),
                         ("activities", "activity_id"))},
    **{("POST", f"/api/v1/{kind}/<uuid:{key}>/shares"): "creates a share, a record of its own"
       for kind, key in (("parties", "party_id"), ("deals", "deal_id"), ("leads", "lead_id"),
                         ("activities", "activity_id"), ("tasks", "task_id"), ("tickets", "ticket_id"))},
    **{("DELETE", f"/api/v1/{kind}/<uuid:{key}>/shares/<uuid:share_id>"): "removes a share (idempotent)"
       for kind, key in (("parties", "party_id"), ("deals", "deal_id"), ("leads", "lead_id"),
                         ("activities", "activity_id"), ("tasks", "task_id"), ("tickets", "ticket_id"))},
    ("POST", "/api/v1/agenda/events/<uuid:event_id>/shares"): "creates a share, a record of its own",
    ("DELETE", "/api/v1/agenda/events/<uuid:event_id>/shares/<uuid:share_id>"): "removes a share (idempotent)",
    ("POST", "/api/v1/agenda/events/<uuid:event_id>/respond"): "an attendee sets their own status (idempotent)",
    ("POST", "/api/v1/agenda/feed"): "makes the caller's own feed URL anew (rotating is always safe to repeat)",
    ("DELETE", "/api/v1/agenda/feed"): "revoking the caller's own feed is idempotent and final",
    ("POST", "/api/v1/agenda/events/<uuid:event_id>/held"): "creates an activity, once per occurrence (409 after)",
    ("PUT", "/api/v1/agenda/day-notes/<string:day>"): "the caller's own note for a day, replaced whole",
    ("DELETE", "/api/v1/agenda/day-notes/<string:day>"): "removes the caller's own note for a day (final)",
    ("POST", "/api/v1/agenda/import"): "an import is keyed by UID: repeating it changes nothing",
    ("DELETE", "/api/v1/agenda/caldav-links/<uuid:link_id>"): "unlinking the caller's own calendar is final",
    ("POST", "/api/v1/agenda/caldav-links/<uuid:link_id>/sync"): "syncing is always safe to repeat",
    **{("POST", f"/api/v1/me/notifications/<uuid:notification_id>/{action}"): "a user's own notification state, "
       "which only they change (read and dismiss are idempotent, snooze sets a time)"
       for action in ("read", "snooze", "dismiss")},
    ("PUT", "/api/v1/pipelines/<uuid:pipeline_id>/stages/<uuid:stage_id>/task-templates"): "sets the stage's "
                                                                                         "templates as a whole",
    ("POST", "/api/v1/public/installation-forms/<string:token>"): "the installer has no ETag: the signed, "
                                                                  "single-use link is the precondition",
    # campaigns
    ("POST", "/api/v1/campaigns/lists/<uuid:list_id>/import"): "adds members (idempotent: present ones stay)",
    ("DELETE", "/api/v1/campaigns/suppressions"): "releases one address (a second is a 404)",
    ("POST", "/api/v1/public/subscriptions/<string:form_key>"): "public double opt-in request",
    ("POST", "/api/v1/public/subscriptions/confirm/<string:token>"): "public confirmation (idempotent)",
    ("POST", "/api/v1/campaigns/mailings/<uuid:campaign_id>/test-send"): "queues a test mail; changes no record",
    ("POST", "/api/v1/public/campaign-mail/unsubscribe/<string:rid>/<string:sig>"): "RFC 8058 one-click (idempotent)",
    ("POST", "/api/v1/tickets/<uuid:ticket_id>/messages"): "adds a reply or note, a record of its own",
    ("POST", "/api/v1/tickets/<uuid:ticket_id>/attachments"): "adds a file, a record of its own",
}


def test_every_change_requires_if_match_or_says_why_not(app):
    unexplained, stale = if_match_gaps(app, NO_IF_MATCH, OPTIONAL_IF_MATCH)
    assert not unexplained, f"changes that do not require If-Match and give no reason: {unexplained}"
    assert not stale, f"listed with a reason that no longer applies: {stale}"


def test_the_document_declares_if_match_wherever_the_api_answers_428(app, client):
    assert if_match_documentation_gaps(app, client.get("/openapi.json").json) == []

# (method, rule) -> why If-Match is accepted (and checked when sent) but not required
STATE_CHECKED = "an action the record's state guards (a second one is a 409): If-Match guards a concurrent edit"
OPTIONAL_IF_MATCH = {
    **{("POST", f"/api/v1/deals/<uuid:deal_id>/{action}"): STATE_CHECKED for action in ("move", "won", "lost",
                                                                                      "reopen")},
    **{("POST", f"/api/v1/leads/<uuid:lead_id>/{action}"): STATE_CHECKED for action in ("qualify", "disqualify",
                                                                                      "convert")},
    **{("POST", f"/api/v1/quotes/<uuid:quote_id>/{action}"): STATE_CHECKED for action in ("send", "accept",
                                                                                        "reject", "revise")},
    **{("POST", f"/api/v1/tasks/<uuid:task_id>/{action}"): STATE_CHECKED for action in ("complete", "reopen")},
    ("DELETE", "/api/v1/activities/<uuid:activity_id>"): "deleting is final and idempotent (a second is a 404)",
    **{(m, "/api/v1/installations/<uuid:installation_id>/link"): "a link replaces or drops every earlier one; "
                                                                  "a submitted installation refuses it (409)"
       for m in ("POST", "DELETE")},
    **{("POST", f"/api/v1/campaigns/mailings/<uuid:campaign_id>/{action}"): STATE_CHECKED
       for action in ("schedule", "pause", "resume", "cancel", "resend")},
    **{("POST", f"/api/v1/campaigns/newsletters/<uuid:newsletter_id>/{action}"): STATE_CHECKED
       for action in ("pause", "resume")},
    **{("POST", f"/api/v1/tickets/<uuid:ticket_id>/{action}"): STATE_CHECKED for action in ("status", "merge")},
}

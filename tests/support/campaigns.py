"""Fixtures shared by the campaign tests: an aiosmtpd server of the test's own, the worker's campaign sender
pointed at it (fast throttles, only the given campaigns), and one pass of the sender as the worker makes it."""

import pytest
from crm.campaigns.sender import CampaignSender, SenderConfig, SmtpSession

from tests.support.smtp import Inbox, start_server


@pytest.fixture
def smtp():
    inbox = Inbox()
    controller = start_server(inbox)
    inbox.port = controller.port
    yield inbox
    controller.stop()


@pytest.fixture
def sender(app, db, smtp):
    """The worker's campaign sender for the given campaigns, fast throttles, against the test's SMTP server."""
    s = app.extensions["servicekit.web"].settings
    config = SenderConfig(s.campaign_secret, s.crm_public_url, "Northwind News <news@northwind.test>",
                          "bounces.northwind.test", rate=5000, domain_rate=5000)

    def make(*campaign_ids) -> CampaignSender:
        return CampaignSender(db.engine, config, SmtpSession("127.0.0.1", smtp.port), poll_interval=0.05,
                              campaign_ids=[str(c) for c in campaign_ids])
    return make


def run(sender: CampaignSender) -> int:
    """Start what is due, send everything sendable, finish what is done; how many were sent."""
    sender.start_due()
    sent = sender.send_due(100_000)
    sender.finish_done()
    sender.smtp.close()
    return sent

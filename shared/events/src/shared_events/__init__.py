"""The project's event library: envelope, contracts, topic catalogue, outbox and inbox."""

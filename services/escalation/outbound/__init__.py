"""What the escalation service sends out: messages to the disputes service, webhooks."""

"""What the escalation service sends out: webhook deliveries over HTTP."""

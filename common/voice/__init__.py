"""The receptionist on the phone: call flow and voice webhooks."""

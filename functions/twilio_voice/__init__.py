"""twilio_voice: the receptionist on the phone (entry point in `main.py`).

`REQUIRED_SECRETS` names the secrets the function cannot start without in
prod; the local runtime reads it here, without booting the function.
"""

from __future__ import annotations

REQUIRED_SECRETS: tuple[str, ...] = ("TWILIO_AUTH_TOKEN",)

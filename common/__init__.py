"""What every function shares: settings, request context, structured logs,
the HTTP wrapper, signature checks, tenancy and storage, the assistant,
guards, alert publishing and error tracking.

Modules are imported by name (`from common.logs import get_logger`); nothing
heavy is imported here, so a function pays only for what it uses.
"""

"""Telephony resource tests reuse the API tests' app and tenants."""

from tests.api.conftest import api, make_tenant, other_tenant, settings, tenant, worker

__all__ = ["api", "make_tenant", "other_tenant", "settings", "tenant", "worker"]

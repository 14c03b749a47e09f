"""These tests reuse the API tests' app, tenants and settings."""

from tests.api.conftest import api, make_tenant, other_tenant, settings, tenant

__all__ = ["api", "make_tenant", "other_tenant", "settings", "tenant"]

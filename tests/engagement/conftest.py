"""Lead engagement tests reuse the API tests' app, tenants and worker."""

from tests.api.conftest import api, make_tenant, other_tenant, settings, tenant, worker

__all__ = ["api", "make_tenant", "other_tenant", "settings", "tenant", "worker"]

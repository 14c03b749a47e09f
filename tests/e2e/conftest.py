"""End-to-end tests reuse the API tests' tenant fixtures."""

from tests.api.conftest import make_tenant

__all__ = ["make_tenant"]

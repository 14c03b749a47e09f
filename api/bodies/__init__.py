"""Every request and response body of the API, a module per resource (as `api/routes`):
a route module only routes."""

"""Admin for OAuth2 API clients (filled in by the API work)."""

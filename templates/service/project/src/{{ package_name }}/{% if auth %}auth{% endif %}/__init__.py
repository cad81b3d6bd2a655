"""Authentication and authorization: an OAuth 2.0 resource server for any OpenID Connect
provider, a browser login through this service, and a client for calling other services.

Rooms:
- `config`         its settings section (OIDC_ISSUER, AUTH_*)
- `discovery`      the provider's metadata (/.well-known/openid-configuration)
- `jwks`           the provider's signing keys: cached, refetched on rotation, rate-limited
- `tokens`         access-token validation (RFC 8725, RFC 9068)
- `principal`      the verified caller (`Principal`, its claims), where to find it
- `middleware`     verifies the caller of every request, before routing
- `authorization`  the `authorize` extension point, `require_scopes`, `require_roles`
- `login`          authorization code + PKCE as a confidential client
- `sessions`       browser sessions in Redis, refresh rotation with reuse detection
- `cookies`        the session's cookies
- `router`         /auth/login, /auth/callback, /auth/me, /auth/refresh, /auth/logout
- `machine`        client-credentials tokens for calling other services
- `models`, `ownership`  who created each item
- `capability`     its protocol object
"""

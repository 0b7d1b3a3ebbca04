"""Authentication of the web API and page: access JWTs (bearer or cookie), refresh sessions in the
database, the local dev login, CSRF for cookie writes, API keys for BOT accounts.

`create_app` builds one `AuthKit` per runtime, uses `kit.authenticate` as the `Authenticator` and
mounts `build_router(kit)`. Routes that need a scope ask for `Depends(require_scope("trade"))`;
admin-only routes take an `ExchangeAdmin` caller.
"""

from kyrios.web.auth.kit import AuthKit
from kyrios.web.auth.routes import ExchangeAdmin, build_router, require_scope

__all__ = ["AuthKit", "ExchangeAdmin", "build_router", "require_scope"]

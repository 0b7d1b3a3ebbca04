"""Authentication of the web API and page: access JWTs (bearer or cookie), refresh sessions in the
database, the local dev login, CSRF for cookie writes.

`create_app` builds one `AuthKit` per runtime, uses `kit.authenticate` as the `Authenticator` and
mounts `build_router(kit)`.
"""

from kyrios.web.auth.kit import AuthKit
from kyrios.web.auth.routes import build_router

__all__ = ["AuthKit", "build_router"]

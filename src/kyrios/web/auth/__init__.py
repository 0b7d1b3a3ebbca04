"""Authentication of the web API and page: access JWTs (bearer or cookie), refresh sessions in the
database, the local dev login, CSRF for cookie writes, API keys for BOT accounts.

`create_app` builds one `kit.AuthKit` per runtime, uses `kit.authenticate` as the `Authenticator`
and mounts `routes.build_router(kit)`. Routes that need a scope ask for
`Depends(routes.require_scope("trade"))`; admin-only routes take a `routes.ExchangeAdmin` caller.
(Nothing is imported here, so `kyrios api-key …` starts without FastAPI.)
"""

-- Token usage is a ledger: the application adds rows and never changes or removes them.
REVOKE UPDATE, DELETE ON TABLE token_usage FROM savoir_app;

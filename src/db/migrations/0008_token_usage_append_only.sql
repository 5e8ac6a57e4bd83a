-- Token usage is a ledger: the application adds rows and never changes or removes them,
-- neither in an organisation's transactions nor in platform work.
REVOKE UPDATE, DELETE, TRUNCATE ON TABLE token_usage FROM savoir_app;
--> statement-breakpoint
REVOKE UPDATE, DELETE, TRUNCATE ON TABLE token_usage FROM savoir_platform;

-- Platform tables are not the tenant role's to write: data keys wrap every organisation's
-- secrets, and the provider catalogue carries the compliance facts the data policy relies on
-- (a tenant rewriting a provider's region would defeat the EU-only policy). The default
-- privileges gave savoir_app full write access; reads stay (the catalogue is shown to everyone).
REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON TABLE data_keys, catalogue_providers, catalogue_models FROM savoir_app;
--> statement-breakpoint
-- Data keys are retired, never deleted: a deleted key makes every value sealed under it unreadable.
REVOKE DELETE, TRUNCATE ON TABLE data_keys FROM savoir_platform;

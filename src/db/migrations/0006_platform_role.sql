-- The platform role: what `withUnscoped` work runs as (the job runner, operators' platform actions).
-- It bypasses row-level security but owns nothing: it cannot alter tables, disable triggers, or
-- rewrite the audit log. With a separate migration login (SAVOIR_MIGRATION_DATABASE_URL), the
-- application's login is a member of savoir_app and savoir_platform only, and owns no table.
-- BYPASSRLS needs a superuser to create the role: otherwise create it beforehand (operator guide).
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'savoir_platform') THEN
    CREATE ROLE savoir_platform NOLOGIN BYPASSRLS;
  END IF;
END
$$;
--> statement-breakpoint
DO $$
BEGIN
  IF NOT pg_has_role(current_user, 'savoir_platform', 'MEMBER') THEN
    EXECUTE format('GRANT savoir_platform TO %I', current_user);
  END IF;
END
$$;
--> statement-breakpoint
GRANT USAGE ON SCHEMA public TO savoir_platform;
--> statement-breakpoint
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO savoir_platform;
--> statement-breakpoint
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO savoir_platform;
--> statement-breakpoint
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO savoir_platform;
--> statement-breakpoint
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO savoir_platform;
--> statement-breakpoint
REVOKE UPDATE, DELETE, TRUNCATE ON audit_events FROM savoir_platform;

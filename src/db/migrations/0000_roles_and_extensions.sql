-- Extensions and the application role. Runs as the migrating user (a superuser on PGlite;
-- on a PostgreSQL server, a user allowed to create extensions and roles, or an operator who
-- created them beforehand: every statement here is idempotent).
CREATE EXTENSION IF NOT EXISTS vector;
--> statement-breakpoint
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'savoir_app') THEN
    CREATE ROLE savoir_app NOLOGIN;
  END IF;
END
$$;
--> statement-breakpoint
-- The connecting user switches to savoir_app for every application transaction (SET LOCAL ROLE).
DO $$
BEGIN
  IF NOT pg_has_role(current_user, 'savoir_app', 'MEMBER') THEN
    EXECUTE format('GRANT savoir_app TO %I', current_user);
  END IF;
END
$$;
--> statement-breakpoint
GRANT USAGE ON SCHEMA public TO savoir_app;
--> statement-breakpoint
-- Tables created by later migrations are usable by the application role; RLS policies limit the rows.
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO savoir_app;
--> statement-breakpoint
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO savoir_app;

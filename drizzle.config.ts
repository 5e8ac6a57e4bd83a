import { defineConfig } from 'drizzle-kit';

// Used only by `npm run db:generate` (offline). Migrations are applied at run time by src/db/migrate.ts.
export default defineConfig({
  dialect: 'postgresql',
  schema: './src/db/schema/index.ts',
  out: './src/db/migrations',
  entities: { roles: { provider: '' } },
});

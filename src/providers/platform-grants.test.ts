import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../test/support/db.ts';
import { organizations } from '../db/schema/index.ts';
import { withTenant, withUnscoped } from '../db/tenancy.ts';
import { KeyRing } from '../crypto/key-ring.ts';
import { randomBytes } from 'node:crypto';

describe('platform crypto and compliance tables are out of the tenant role’s reach', () => {
  let database: TestDatabase;
  let orgId: string;

  beforeAll(async () => {
    database = await createTestDatabase();
    const [org] = await withUnscoped(database.db, (tx) => tx.insert(organizations).values({ name: 'Grants', slug: 'grants' }).returning());
    orgId = org!.id;
    await withUnscoped(database.db, (tx) =>
      tx.execute(sql`insert into catalogue_providers (id, name, protocol, description, region, data_location, trains_on_data, policy_url, default_base_url, accepts_any_model)
        values ('grant-test', 'Grant test', 'openai', 'x', 'eu', 'EU', false, 'https://example.org', null, false) on conflict do nothing`),
    );
    await KeyRing.open(database.db, [randomBytes(32)]);
  });
  afterAll(() => database.close());

  /** The database's own refusal (drizzle wraps it: the cause carries Postgres' message). */
  const refused = async (work: Promise<unknown>) => {
    const error = await work.then(() => undefined, (e: unknown) => e as Error & { cause?: Error });
    expect(error, 'the statement was accepted').toBeDefined();
    expect(String(error?.cause?.message ?? error?.message)).toMatch(/permission denied/);
  };
  const inTenant = (statement: ReturnType<typeof sql>) => withTenant(database.db, { organizationId: orgId }, (tx) => tx.execute(statement));

  it('refuses, inside an organisation’s transaction, any write to catalogue_providers, catalogue_models and data_keys', async () => {
    await refused(inTenant(sql`update catalogue_providers set region = 'eu' where id = 'grant-test'`));
    await refused(inTenant(sql`insert into catalogue_models (provider_id, model, kind, context_length_tokens) values ('grant-test', 'm', 'chat', 10)`));
    await refused(inTenant(sql`delete from catalogue_models`));
    await refused(inTenant(sql`update data_keys set retired_at = now()`));
    await refused(inTenant(sql`delete from data_keys`));
    await refused(inTenant(sql`insert into data_keys (wrapped_key, master_key_id) values ('x', 'y')`));
  });

  it('lets the platform role create and retire data keys, never delete them', async () => {
    await refused(withUnscoped(database.db, (tx) => tx.execute(sql`delete from data_keys`)));
    await refused(withUnscoped(database.db, (tx) => tx.execute(sql`truncate data_keys`)));
    await expect(withUnscoped(database.db, (tx) => tx.execute(sql`update catalogue_providers set data_location = 'EU' where id = 'grant-test'`))).resolves.toBeDefined();
  });
});

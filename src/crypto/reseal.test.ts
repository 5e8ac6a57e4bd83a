import { mkdtempSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../test/support/db.ts';
import { testConfig } from '../../test/support/app.ts';
import { rotateDataKeyCommand } from '../cli/keys.ts';
import { queryRows } from '../db/client.ts';
import { organizations } from '../db/schema/index.ts';
import { withTenant, withUnscoped } from '../db/tenancy.ts';
import { JobRunner } from '../ops/jobs/runner.ts';
import { seedCatalogue } from '../providers/llm/catalogue.repo.ts';
import { LlmClient } from '../providers/llm/llm-client.ts';
import { createConfig, resolveModel } from '../providers/provider-configs.service.ts';
import type { ProvidersDeps } from '../providers/providers-deps.ts';
import { KeyRing } from './key-ring.ts';
import { loadMasterKeys } from './master-key.ts';
import { RESEAL_JOB_KIND, resealUnderActiveKeyUnscoped } from './reseal.ts';

describe('data key rotation re-seals provider credentials in the background', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(() => database.close());

  it('after `savoir keys rotate-data-key`, the job moves every credential to the new key; they still open', async () => {
    const keyFile = path.join(mkdtempSync(path.join(tmpdir(), 'savoir-reseal-')), 'master.key');
    writeFileSync(keyFile, randomBytes(32).toString('base64'));
    const config = testConfig({ SAVOIR_MASTER_KEY_FILE: keyFile });
    await withUnscoped(database.db, (tx) => seedCatalogue(tx));
    const [org] = await withUnscoped(database.db, (tx) => tx.insert(organizations).values({ name: 'Epsilon', slug: 'epsilon' }).returning());
    const tenant = { organizationId: (org as { id: string }).id };
    const keyRing = await KeyRing.open(database.db, loadMasterKeys(config));
    const deps: ProvidersDeps = { db: database.db, keyRing, audit: async () => undefined, llm: new LlmClient() };
    const actor = { actorType: 'user' as const, actorId: null };
    const first = await createConfig(deps, tenant, actor, { providerId: 'mistral', label: 'one', apiKey: 'mistral-key-one-0001' });
    await createConfig(deps, tenant, actor, { providerId: 'scaleway', label: 'two', apiKey: 'scaleway-key-two-0002' });
    const oldKeyId = keyRing.activeDataKeyId;

    expect(await rotateDataKeyCommand(config, database)).toMatch(/is now active/);
    const keyIds = () => withUnscoped(database.db, (tx) => queryRows<{ k: string }>(tx, sql`select split_part(credentials_sealed, '.', 2) as k from provider_configs order by label`));
    expect((await keyIds()).map((r) => r.k)).toEqual([oldKeyId, oldKeyId]);

    const runner = new JobRunner(database.db, { concurrency: 1, leaseMs: 30_000 });
    runner.register(RESEAL_JOB_KIND, () => resealUnderActiveKeyUnscoped(database.db, keyRing));
    expect(await runner.drain()).toBe(1);
    const after = (await keyIds()).map((r) => r.k);
    expect(after[0]).not.toBe(oldKeyId);
    expect(after).toEqual([after[0], after[0]]);
    expect(after[0]).toBe(keyRing.activeDataKeyId);

    const resolved = await withTenant(database.db, tenant, (tx) => resolveModel(deps, tx, tenant, { providerConfigId: first.id, model: 'mistral-small-latest', kind: 'chat' }));
    expect(resolved.target.apiKey).toBe('mistral-key-one-0001');
  });
});

import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../test/support/db.ts';
import { FakeProviderServer, embeddingsResponse, reply, streamedAnswer } from '../../test/support/fake-provider-server.ts';
import { KeyRing } from '../crypto/key-ring.ts';
import { organizations, tokenUsage } from '../db/schema/index.ts';
import { withTenant, withUnscoped } from '../db/tenancy.ts';
import type { ProviderAuditEvent } from './audit-writer.ts';
import { recordAuditEvent } from '../audit/audit.service.ts';
import { openOrganizationEmbeddings } from './embeddings/organization-embeddings.ts';
import type { ChatEvent } from './llm/chat-types.ts';
import { retireCatalogueModel, seedCatalogue, upsertCatalogueModel } from './llm/catalogue.repo.ts';
import { LlmClient } from './llm/llm-client.ts';
import { checkModelSelection, streamOrganizationChat } from './model-access.service.ts';
import { AppError } from '../http/errors.ts';
import { saveDataPolicy } from './policy/data-policy.repo.ts';
import { createConfig } from './provider-configs.service.ts';
import type { Actor, ProvidersDeps } from './providers-deps.ts';

describe('policy at call time, fallback and token usage', () => {
  let database: TestDatabase;
  let server: FakeProviderServer;
  let deps: ProvidersDeps;
  let tenant: { organizationId: string };
  const audited: ProviderAuditEvent[] = [];
  const admin: Actor = { actorType: 'user', actorId: null };
  let euServer: string;
  let usServer: string;
  let local: string;
  const assistantId = randomUUID();
  const warnings: { message: string; details: Record<string, unknown> }[] = [];

  const setPolicy = (euOnly: boolean) => withTenant(database.db, tenant, (tx) => saveDataPolicy(tx, tenant, { euOnly, noTraining: true }));
  const answer = async (events: AsyncIterable<ChatEvent>) => {
    let text = '';
    let done: Extract<ChatEvent, { type: 'done' }> | undefined;
    for await (const event of events) {
      if (event.type === 'delta') text += event.text;
      else done = event;
    }
    return { text, done };
  };
  const usage = () => withTenant(database.db, tenant, (tx) => tx.select().from(tokenUsage));

  beforeAll(async () => {
    database = await createTestDatabase();
    server = await FakeProviderServer.start();
    await withUnscoped(database.db, (tx) => seedCatalogue(tx));
    const [org] = await withUnscoped(database.db, (tx) => tx.insert(organizations).values({ name: 'Gamma', slug: 'gamma' }).returning());
    tenant = { organizationId: (org as { id: string }).id };
    deps = {
      db: database.db,
      keyRing: await KeyRing.open(database.db, [randomBytes(32)]),
      // The real hash-chained audit log, watched on the way in.
      audit: async (tx, event) => {
        audited.push(event);
        return recordAuditEvent(tx, event);
      },
      llm: new LlmClient({ retry: { maxAttempts: 1 }, firstTokenTimeoutMs: 2_000, privateEndpointCidrs: ['127.0.0.1/32'] }),
      warn: (details, message) => warnings.push({ message, details }),
    };
    const compatible = { providerId: 'openai-compatible', apiKey: 'compat-key-000000', endpoint: `${server.url}/v1` };
    euServer = (await createConfig(deps, tenant, admin, { ...compatible, label: 'EU vLLM', statedRegion: 'eu', statedDataLocation: 'Paris' })).id;
    usServer = (await createConfig(deps, tenant, admin, { ...compatible, label: 'US vLLM', statedRegion: 'non-eu', statedDataLocation: 'Virginia', endpoint: `${server.url}/us/v1` })).id;
    local = (await createConfig(deps, tenant, admin, { providerId: 'local', label: 'Local' })).id;
  });
  afterAll(async () => {
    await server.close();
    await database.close();
  });
  afterEach(() => {
    expect(server.unexpected).toEqual([]);
    expect(server.pending).toBe(0);
  });

  it('streams an allowed model end to end and records the tokens per organisation, assistant and model', async () => {
    await setPolicy(false);
    server.expect('POST', '/us/v1/chat/completions', reply.sse(streamedAnswer(['Hello', ' there'], [11, 2])));
    const result = await answer(streamOrganizationChat(deps, tenant, { selection: { providerConfigId: usServer, model: 'llama3.1:8b' }, assistantId }, { messages: [{ role: 'user', content: 'Hi' }] }));
    expect(result.text).toBe('Hello there');
    // The self-hosted server was not sent stream_options (it may reject unknown fields).
    expect(server.requests.at(-1)?.body).not.toHaveProperty('stream_options');
    expect(await usage()).toEqual([expect.objectContaining({ organizationId: tenant.organizationId, assistantId, providerConfigId: usServer, model: 'llama3.1:8b', kind: 'chat', promptTokens: 11, completionTokens: 2, estimated: false })]);
  });

  it('refuses the call when the policy changed since the model was chosen, audited, without reaching the provider', async () => {
    await setPolicy(true);
    const error = await answer(streamOrganizationChat(deps, tenant, { selection: { providerConfigId: usServer, model: 'llama3.1:8b' }, assistantId }, { messages: [{ role: 'user', content: 'Hi' }] })).catch((e: unknown) => e);
    // A clear 409 for the API, not a raw error the central handler would turn into a 500.
    expect(error).toBeInstanceOf(AppError);
    expect(error).toMatchObject({ code: 'conflict', status: 409 });
    expect((error as Error).message).toMatch(/"EU data location only" policy refuses llama3\.1:8b from OpenAI-compatible server: it processes data in Virginia/);
    expect(audited.at(-1)).toMatchObject({ organizationId: tenant.organizationId, action: 'provider.call_refused', outcome: 'failure', targetId: usServer, details: { refusedBy: 'eu_only', assistantId } });
    expect(server.requests.filter((r) => r.path.startsWith('/us/'))).toHaveLength(1);
  });

  it('drops a fallback the policy now refuses (audited) and still answers with the primary', async () => {
    server.expect('POST', '/v1/chat/completions', reply.sse(streamedAnswer(['EU answer'], [3, 2])));
    const result = await answer(
      streamOrganizationChat(deps, tenant, { selection: { providerConfigId: euServer, model: 'llama3.1:8b', fallback: { providerConfigId: usServer, model: 'llama3.1:8b' } }, assistantId }, { messages: [{ role: 'user', content: 'Hi' }] }),
    );
    expect(result.text).toBe('EU answer');
    expect(audited.at(-1)).toMatchObject({ action: 'provider.fallback_refused', targetId: usServer });
  });

  it('falls back to an allowed model when the primary is down; usage is counted for the model that answered', async () => {
    server.expect('POST', '/v1/chat/completions', reply.json(502, { error: { message: 'bad gateway' } }));
    const result = await answer(
      streamOrganizationChat(
        deps,
        tenant,
        { selection: { providerConfigId: euServer, model: 'llama3.1:8b', fallback: { providerConfigId: local, model: 'savoir-extractive' } }, assistantId },
        { messages: [{ role: 'user', content: 'What is the notice period?' }], passages: [{ id: 'p1', text: 'The notice period is three months. Lunch is at noon.' }] },
      ),
    );
    expect(result.done).toMatchObject({ usedFallback: true, target: { key: local } });
    expect(result.text).toBe('According to the documents: The notice period is three months. [1]');
    const rows = await usage();
    expect(rows.at(-1)).toMatchObject({ providerConfigId: local, model: 'savoir-extractive', estimated: true });
  });

  it('a retired model keeps serving the selections that use it (with a warning); new selections refuse it', async () => {
    const key = { providerId: 'local', model: 'savoir-extractive', kind: 'chat' as const };
    await withUnscoped(database.db, (tx) => retireCatalogueModel(tx, key));
    try {
      const result = await answer(
        streamOrganizationChat(deps, tenant, { selection: { providerConfigId: local, model: 'savoir-extractive' }, assistantId }, { messages: [{ role: 'user', content: 'Notice period?' }], passages: [{ id: 'p1', text: 'The notice period is three months.' }] }),
      );
      expect(result.text).toMatch(/three months/);
      expect(warnings).toContainEqual(expect.objectContaining({ message: expect.stringMatching(/retired/), details: expect.objectContaining({ model: 'savoir-extractive', providerConfigId: local }) }));
      const refused = await checkModelSelection(deps, tenant, admin, { providerConfigId: local, model: 'savoir-extractive', kind: 'chat' }).catch((e: unknown) => e);
      expect(refused).toMatchObject({ code: 'validation_failed', message: expect.stringMatching(/savoir-extractive was retired/) });
    } finally {
      await withUnscoped(database.db, (tx) => upsertCatalogueModel(tx, { ...key, contextLengthTokens: 32_768, embeddingDimension: null }));
    }
  });

  it('embeds for the organisation, re-checking the policy on every call', async () => {
    await setPolicy(false);
    const embeddings = await openOrganizationEmbeddings(deps, tenant, { providerConfigId: usServer, model: 'nomic-embed-text' });
    expect(embeddings.dimension).toBe(768);
    server.expect('POST', '/us/v1/embeddings', reply.json(200, embeddingsResponse([Array.from({ length: 768 }, () => 0.5)])));
    expect((await embeddings.embed(['bonjour']))[0]).toHaveLength(768);
    expect((await usage()).at(-1)).toMatchObject({ kind: 'embedding', model: 'nomic-embed-text' });
    await setPolicy(true);
    await expect(embeddings.embed(['bonjour'])).rejects.toMatchObject({ name: 'AppError', code: 'conflict', status: 409, message: expect.stringMatching(/"EU data location only" policy refuses nomic-embed-text/) });
    expect(audited.at(-1)).toMatchObject({ action: 'provider.call_refused', details: { kind: 'embedding' } });
  });
});

describe('token usage ledger', () => {
  it('cannot be changed or deleted by the application', async () => {
    const database = await createTestDatabase();
    try {
      await withUnscoped(database.db, (tx) => seedCatalogue(tx));
      const [org] = await withUnscoped(database.db, (tx) => tx.insert(organizations).values({ name: 'Delta', slug: 'delta' }).returning());
      const tenant = { organizationId: (org as { id: string }).id };
      await withTenant(database.db, tenant, (tx) => tx.insert(tokenUsage).values({ organizationId: tenant.organizationId, providerId: 'local', model: 'm', kind: 'chat', promptTokens: 1, completionTokens: 1 }));
      await expect(withTenant(database.db, tenant, (tx) => tx.update(tokenUsage).set({ promptTokens: 0 }))).rejects.toSatisfy((e: unknown) => /permission denied/.test(String((e as { cause?: Error }).cause?.message ?? e)));
      await expect(withTenant(database.db, tenant, (tx) => tx.delete(tokenUsage))).rejects.toSatisfy((e: unknown) => /permission denied/.test(String((e as { cause?: Error }).cause?.message ?? e)));
    } finally {
      await database.close();
    }
  });
});

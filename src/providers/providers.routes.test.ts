import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../http/app.ts';
import { createLogger } from '../http/logger.ts';
import { createTestDatabase, type TestDatabase } from '../../test/support/db.ts';
import { LogCapture, testConfig } from '../../test/support/app.ts';
import type { Config } from '../config/load.ts';
import { dumpDatabaseText } from '../../test/support/dump.ts';
import { FakeProviderServer, chatCompletion, embeddingsResponse, reply } from '../../test/support/fake-provider-server.ts';
import { as, headerAuthenticator } from '../../test/support/principal.ts';
import { organizations, tokenUsage } from '../db/schema/index.ts';
import { withTenant, withUnscoped } from '../db/tenancy.ts';
import type { ProviderAuditEvent } from './audit-writer.ts';
import { recordAuditEvent } from '../audit/audit.service.ts';

describe('provider routes: catalogue, policy, configurations, model selection', () => {
  let database: TestDatabase;
  let app: FastifyInstance;
  let logs: LogCapture;
  let appConfig: Config;
  let server: FakeProviderServer;
  let orgA: string;
  let orgB: string;
  const audited: ProviderAuditEvent[] = [];
  const secrets = ['sk-mistral-SECRET-0001-abcdef', 'sk-openai-SECRET-0002-ghijkl', 'sk-compat-SECRET-0003-mnopqr', 'azure-SECRET-0004-stuvwx'];

  beforeAll(async () => {
    database = await createTestDatabase();
    server = await FakeProviderServer.start();
    const created = await withUnscoped(database.db, (tx) => tx.insert(organizations).values([{ name: 'Alpha', slug: 'alpha' }, { name: 'Beta', slug: 'beta' }]).returning());
    [orgA, orgB] = created.map((o) => o.id) as [string, string];
    // The fake provider listens on 127.0.0.1: the operator's opt-in for private endpoints.
    const config = testConfig({ SAVOIR_PROVIDER_PRIVATE_ENDPOINTS: '127.0.0.1/32' });
    appConfig = config;
    logs = new LogCapture();
    app = await buildApp({
      config,
      database,
      logger: createLogger(config, logs),
      authenticators: [headerAuthenticator],
      // The real hash-chained audit log, watched on the way in.
      audit: async (tx, event) => {
        audited.push(event);
        return recordAuditEvent(tx, event);
      },
      llm: { firstTokenTimeoutMs: 2_000, retry: { baseDelayMs: 1, maxDelayMs: 2, maxAttempts: 1 } },
    });
    await app.ready();
  });
  afterAll(async () => {
    await app.close();
    await server.close();
    await database.close();
  });
  afterEach(() => {
    expect(server.unexpected).toEqual([]);
    expect(server.pending).toBe(0);
  });

  const createConfig = async (org: string, body: Record<string, unknown>) => {
    const response = await app.inject({ method: 'POST', url: '/api/v1/providers/configs', headers: as(org, 'admin'), payload: body });
    expect(response.statusCode, response.body).toBe(201);
    return response.json<{ id: string; credentialsHint: string | null }>();
  };

  it('lists every seed provider with its compliance metadata and models', async () => {
    const response = await app.inject({ method: 'GET', url: '/api/v1/providers/catalogue', headers: as(orgA, 'analyst') });
    expect(response.statusCode).toBe(200);
    const { providers } = response.json<{ providers: { id: string; region: string; trainsOnData: boolean; policyUrl: string; dataLocation: string; models: { model: string; kind: string; embeddingDimension: number | null; contextLengthTokens: number }[] }[] }>();
    expect(providers.map((p) => p.id).sort()).toEqual(['azure-openai', 'local', 'mistral', 'openai', 'openai-compatible', 'ovhcloud', 'scaleway']);
    for (const provider of providers) {
      expect(provider.trainsOnData).toBe(false);
      expect(provider.policyUrl).toMatch(/^https:\/\//);
      expect(provider.models.length).toBeGreaterThan(0);
      for (const model of provider.models) expect(model.contextLengthTokens).toBeGreaterThan(0);
    }
    const byId = Object.fromEntries(providers.map((p) => [p.id, p]));
    expect(byId.openai).toMatchObject({ region: 'non-eu' });
    expect(byId.scaleway).toMatchObject({ region: 'eu', dataLocation: expect.stringMatching(/France/) });
    expect(byId.local).toMatchObject({ region: 'on-server', dataLocation: 'On this server' });
    expect(byId.mistral?.models).toContainEqual(expect.objectContaining({ model: 'mistral-embed', kind: 'embedding', embeddingDimension: 1024 }));
    expect(byId.openai?.models).toContainEqual(expect.objectContaining({ model: 'text-embedding-3-small', embeddingDimension: 1536 }));
    expect(byId.scaleway?.models).toContainEqual(expect.objectContaining({ model: 'bge-multilingual-gemma2', kind: 'embedding' }));

    expect((await app.inject({ method: 'GET', url: '/api/v1/providers/catalogue', headers: as(orgA, 'member') })).statusCode).toBe(403);
    expect((await app.inject({ method: 'GET', url: '/api/v1/providers/catalogue' })).statusCode).toBe(401);
  });

  it('lets operators, and only them, edit the catalogue; a restart does not undo their edits', async () => {
    const patch = { method: 'PATCH' as const, url: '/api/v1/platform/catalogue/ovhcloud', payload: { dataLocation: 'France (Roubaix)' } };
    expect((await app.inject({ ...patch, headers: as(orgA, 'owner') })).statusCode).toBe(403);
    const edited = await app.inject({ ...patch, headers: as(orgA, 'operator') });
    expect(edited.statusCode, edited.body).toBe(200);
    expect(edited.json()).toMatchObject({ dataLocation: 'France (Roubaix)' });
    const added = await app.inject({ method: 'PUT', url: '/api/v1/platform/catalogue/mistral/models', headers: as(orgA, 'operator'), payload: { model: 'codestral-embed', kind: 'embedding', contextLengthTokens: 8192 } });
    expect(added.statusCode).toBe(400);
    expect(added.json().errors).toContainEqual(expect.objectContaining({ field: 'body.embeddingDimension' }));
    const retired = await app.inject({ method: 'DELETE', url: `/api/v1/platform/catalogue/openai/models/chat/${encodeURIComponent('gpt-4o-mini')}`, headers: as(orgA, 'operator') });
    expect(retired.statusCode).toBe(204);
    expect(audited.map((a) => a.action)).toEqual(expect.arrayContaining(['catalogue.provider_updated', 'catalogue.model_retired']));

    // The app starts again: the seed runs, the edits stay.
    const again = await buildApp({ config: testConfig(), database, logger: createLogger(testConfig(), new LogCapture()), authenticators: [headerAuthenticator] });
    await again.ready();
    const list = (await again.inject({ method: 'GET', url: '/api/v1/providers/catalogue', headers: as(orgA, 'editor') })).json<{ providers: { id: string; dataLocation: string; models: { model: string; kind: string }[] }[] }>();
    await again.close();
    const ovh = list.providers.find((p) => p.id === 'ovhcloud');
    expect(ovh?.dataLocation).toBe('France (Roubaix)');
    expect(list.providers.find((p) => p.id === 'openai')?.models.some((m) => m.model === 'gpt-4o-mini' && m.kind === 'chat')).toBe(false);
    await app.inject({ method: 'PUT', url: '/api/v1/platform/catalogue/openai/models', headers: as(orgA, 'operator'), payload: { model: 'gpt-4o-mini', kind: 'chat', contextLengthTokens: 128000 } });
  });

  it('starts with both policy switches on; only owners and admins change them, audited', async () => {
    const initial = await app.inject({ method: 'GET', url: '/api/v1/providers/policy', headers: as(orgB, 'editor') });
    expect(initial.json()).toEqual({ euOnly: true, noTraining: true, updatedAt: null });
    expect((await app.inject({ method: 'PUT', url: '/api/v1/providers/policy', headers: as(orgB, 'editor'), payload: { euOnly: false, noTraining: true } })).statusCode).toBe(403);
    const bad = await app.inject({ method: 'PUT', url: '/api/v1/providers/policy', headers: as(orgB, 'admin'), payload: { euOnly: 'no' } });
    expect(bad.statusCode).toBe(400);
    const set = await app.inject({ method: 'PUT', url: '/api/v1/providers/policy', headers: as(orgB, 'admin'), payload: { euOnly: false, noTraining: true } });
    expect(set.json()).toMatchObject({ euOnly: false, noTraining: true });
    expect(audited.at(-1)).toMatchObject({ organizationId: orgB, action: 'data_policy.updated', details: { before: { euOnly: true }, after: { euOnly: false } } });
    // Another organisation keeps its own.
    expect((await app.inject({ method: 'GET', url: '/api/v1/providers/policy', headers: as(orgA, 'editor') })).json()).toMatchObject({ euOnly: true });
    await app.inject({ method: 'PUT', url: '/api/v1/providers/policy', headers: as(orgB, 'admin'), payload: { euOnly: true, noTraining: true } });
  });

  it('stores credentials sealed and shows only a masked hint; another organisation gets 404', async () => {
    const created = await createConfig(orgA, { providerId: 'mistral', label: 'Mistral prod', apiKey: secrets[0], endpoint: `${server.url}/v1` });
    expect(created.credentialsHint).toBe('••••cdef');
    const list = await app.inject({ method: 'GET', url: '/api/v1/providers/configs', headers: as(orgA, 'analyst') });
    expect(list.body).not.toContain('SECRET');
    expect(list.json().configs).toHaveLength(1);
    expect((await app.inject({ method: 'GET', url: `/api/v1/providers/configs/${created.id}`, headers: as(orgB, 'owner') })).statusCode).toBe(404);
    expect((await app.inject({ method: 'DELETE', url: `/api/v1/providers/configs/${created.id}`, headers: as(orgB, 'owner') })).statusCode).toBe(404);
    expect((await app.inject({ method: 'POST', url: '/api/v1/providers/configs', headers: as(orgA, 'editor'), payload: { providerId: 'mistral', label: 'x', apiKey: 'k' } })).statusCode).toBe(403);

    const patched = await app.inject({ method: 'PATCH', url: `/api/v1/providers/configs/${created.id}`, headers: as(orgA, 'owner'), payload: { label: 'Mistral', apiKey: secrets[1] } });
    expect(patched.json()).toMatchObject({ label: 'Mistral', credentialsHint: '••••ijkl' });
    expect(audited.at(-1)).toMatchObject({ action: 'provider_config.updated', details: { changed: ['label', 'apiKey'] } });
    expect(JSON.stringify(audited)).not.toContain('SECRET');
  });

  it('refuses an endpoint change that keeps the sealed key: the key must be re-entered', async () => {
    const created = await createConfig(orgB, { providerId: 'openai-compatible', label: 'vLLM B', apiKey: secrets[2], endpoint: `${server.url}/v1`, statedRegion: 'eu' });
    const patch = (payload: Record<string, unknown>) => app.inject({ method: 'PATCH', url: `/api/v1/providers/configs/${created.id}`, headers: as(orgB, 'admin'), payload });
    const moved = await patch({ endpoint: 'https://attacker.example/v1' });
    expect(moved.statusCode).toBe(400);
    expect(moved.json().errors).toEqual([{ field: 'body.apiKey', message: 're-enter the key when changing the endpoint' }]);
    expect((await patch({ endpoint: 'https://attacker.example/v1', apiKey: null })).statusCode).toBe(200);
    const azure = await createConfig(orgB, { providerId: 'azure-openai', label: 'Azure move', apiKey: secrets[3], endpoint: server.url, azureDeployment: 'd', azureApiVersion: '2024-10-21', region: 'swedencentral' });
    for (const field of ['azureDeployment', 'region']) {
      const response = await app.inject({ method: 'PATCH', url: `/api/v1/providers/configs/${azure.id}`, headers: as(orgB, 'admin'), payload: { [field]: 'elsewhere' } });
      expect(response.statusCode, field).toBe(400);
      expect(response.json().errors[0]).toMatchObject({ field: 'body.apiKey' });
    }
    // Unchanged values (the same endpoint sent back) and other fields need no key.
    expect((await app.inject({ method: 'PATCH', url: `/api/v1/providers/configs/${azure.id}`, headers: as(orgB, 'admin'), payload: { endpoint: server.url, label: 'Azure renamed' } })).statusCode).toBe(200);
    expect((await app.inject({ method: 'PATCH', url: `/api/v1/providers/configs/${azure.id}`, headers: as(orgB, 'admin'), payload: { region: 'francecentral', apiKey: secrets[3] } })).statusCode).toBe(200);
    await app.inject({ method: 'DELETE', url: `/api/v1/providers/configs/${azure.id}`, headers: as(orgB, 'admin') });
    await app.inject({ method: 'DELETE', url: `/api/v1/providers/configs/${created.id}`, headers: as(orgB, 'admin') });
  });

  it('refuses an incomplete configuration, naming each missing field', async () => {
    const response = await app.inject({ method: 'POST', url: '/api/v1/providers/configs', headers: as(orgA, 'admin'), payload: { providerId: 'azure-openai', label: 'Azure', apiKey: secrets[3] } });
    expect(response.statusCode).toBe(400);
    expect(response.json().errors.map((e: { field: string }) => e.field)).toEqual(['body.endpoint', 'body.azureDeployment', 'body.azureApiVersion', 'body.region']);
    const unknown = await app.inject({ method: 'POST', url: '/api/v1/providers/configs', headers: as(orgA, 'admin'), payload: { providerId: 'nope', label: 'x' } });
    expect(unknown.json()).toMatchObject({ status: 400, errors: [{ field: 'body.providerId' }] });
  });

  it('tests a connection with a tiny real call: latency, or the provider’s own error', async () => {
    const config = await createConfig(orgA, { providerId: 'openai-compatible', label: 'vLLM', apiKey: secrets[2], endpoint: `${server.url}/v1`, statedRegion: 'eu', statedDataLocation: 'Our datacentre in Lyon' });
    server.expect('POST', '/v1/chat/completions', reply.json(200, chatCompletion('p', [1, 1])));
    const ok = await app.inject({ method: 'POST', url: `/api/v1/providers/configs/${config.id}/test`, headers: as(orgA, 'admin'), payload: { model: 'llama3.1:8b' } });
    expect(ok.json()).toMatchObject({ ok: true, model: 'llama3.1:8b', latencyMs: expect.any(Number) });
    expect(server.requests.at(-1)?.body).toMatchObject({ model: 'llama3.1:8b', max_tokens: 1 });
    expect(server.requests.at(-1)?.headers.authorization).toBe(`Bearer ${secrets[2]}`);

    server.expect('POST', '/v1/embeddings', reply.json(401, { error: { message: 'Invalid token' } }));
    const failed = await app.inject({ method: 'POST', url: `/api/v1/providers/configs/${config.id}/test`, headers: as(orgA, 'admin'), payload: { model: 'nomic-embed-text', kind: 'embedding' } });
    expect(failed.json()).toMatchObject({ ok: false, error: { failure: 'rejected', status: 401, message: 'OpenAI-compatible server refused the request (401): Invalid token' } });
    expect(audited.at(-1)).toMatchObject({ action: 'provider_config.connection_tested', outcome: 'failure' });
  });

  it('never echoes the key a provider quotes back in its error, in the answer or the logs', async () => {
    const key = 'sk-echoed-SECRET-0005-yzabcd';
    const config = await createConfig(orgB, { providerId: 'openai-compatible', label: 'Echo', apiKey: key, endpoint: `${server.url}/v1`, statedRegion: 'eu' });
    server.expect('POST', '/v1/chat/completions', reply.json(401, { error: { message: `Incorrect API key provided: ${key}. Header was Authorization: Bearer ${key}; other token sk-proj-AAAABBBBCCCCDDDD1234` } }));
    const failed = await app.inject({ method: 'POST', url: `/api/v1/providers/configs/${config.id}/test`, headers: as(orgB, 'admin'), payload: { model: 'llama3.1:8b' } });
    expect(failed.json()).toMatchObject({ ok: false, error: { failure: 'rejected', status: 401 } });
    expect(failed.json().error.message).toMatch(/Incorrect API key provided/);
    expect(failed.body).not.toContain(key);
    expect(failed.body).not.toContain(key.slice(3));
    expect(failed.body).not.toContain('sk-proj-AAAABBBBCCCCDDDD1234');
    expect(logs.text).not.toContain(key);
    expect(JSON.stringify(audited)).not.toContain(key);
    await app.inject({ method: 'DELETE', url: `/api/v1/providers/configs/${config.id}`, headers: as(orgB, 'admin') });
  });

  it('refuses endpoints with credentials or a query; a private endpoint is unreachable without the operator’s opt-in, and /test says only that', async () => {
    for (const endpoint of ['https://user:pass@api.example.com/v1', 'https://api.example.com/v1?x=1']) {
      const response = await app.inject({ method: 'POST', url: '/api/v1/providers/configs', headers: as(orgB, 'admin'), payload: { providerId: 'openai-compatible', label: 'x', endpoint, statedRegion: 'eu' } });
      expect(response.statusCode, endpoint).toBe(400);
      expect(response.json().errors[0]).toMatchObject({ field: 'body.endpoint' });
    }
    // The same deployment (same master key) without the operator's opt-in.
    const closedConfig: Config = { ...appConfig, providers: { privateEndpointCidrs: [] } };
    const closed = await buildApp({ config: closedConfig, database, logger: createLogger(closedConfig, new LogCapture()), authenticators: [headerAuthenticator], llm: { retry: { maxAttempts: 1 } } });
    await closed.ready();
    const requestsBefore = server.requests.length;
    try {
      const probe = async (endpoint: string) => {
        const created = await closed.inject({ method: 'POST', url: '/api/v1/providers/configs', headers: as(orgB, 'admin'), payload: { providerId: 'openai-compatible', label: `probe ${endpoint}`, endpoint, statedRegion: 'eu' } });
        expect(created.statusCode, created.body).toBe(201);
        const tested = await closed.inject({ method: 'POST', url: `/api/v1/providers/configs/${created.json().id}/test`, headers: as(orgB, 'admin'), payload: { model: 'llama3.1:8b' } });
        await closed.inject({ method: 'DELETE', url: `/api/v1/providers/configs/${created.json().id}`, headers: as(orgB, 'admin') });
        return tested.json();
      };
      const loopback = await probe(`${server.url}/v1`);
      const metadata = await probe('http://169.254.169.254/v1');
      const closedPort = await probe('http://127.0.0.1:1/v1');
      // The same answer whatever is (or is not) there: /test is no port scanner.
      for (const answer of [loopback, metadata, closedPort]) {
        expect(answer).toMatchObject({ ok: false, error: { failure: 'unreachable', message: 'OpenAI-compatible server could not be reached' } });
      }
      expect(server.requests).toHaveLength(requestsBefore); // nothing reached the fake provider
    } finally {
      await closed.close();
    }
  });

  it('refuses a model that breaks the policy at selection, saying which switch and where; audited', async () => {
    const openai = await createConfig(orgA, { providerId: 'openai', label: 'OpenAI', apiKey: secrets[1] });
    const mistral = (await app.inject({ method: 'GET', url: '/api/v1/providers/configs', headers: as(orgA, 'admin') })).json<{ configs: { id: string; providerId: string }[] }>().configs.find((c) => c.providerId === 'mistral');
    const check = (payload: Record<string, unknown>) => app.inject({ method: 'POST', url: '/api/v1/providers/model-selection/check', headers: as(orgA, 'editor'), payload });

    const refused = await check({ providerConfigId: openai.id, model: 'gpt-4o-mini', kind: 'chat' });
    expect(refused.statusCode).toBe(409);
    expect(refused.json().detail).toBe(
      'The organisation\'s "EU data location only" policy refuses gpt-4o-mini from OpenAI: it processes data in United States (non-EU). Choose an EU provider or ask an admin to change the policy.',
    );
    expect(refused.json().errors).toEqual([{ field: 'body.model', message: 'refused by the "eu_only" policy' }]);
    expect(audited.at(-1)).toMatchObject({ action: 'provider.model_selection', outcome: 'failure', details: { refusedBy: 'eu_only', providerId: 'openai' } });

    // Mistral's configuration points at the fake server: not Mistral's own service, so its location is unknown.
    const elsewhere = await check({ providerConfigId: mistral?.id, model: 'mistral-embed', kind: 'embedding' });
    expect(elsewhere.statusCode).toBe(409);
    expect(elsewhere.json().detail).toMatch(/its data location is not stated \(endpoint overridden to 127\.0\.0\.1/);
    // The operator vouches for that host by making it Mistral's default URL in the catalogue.
    const vouched = await app.inject({ method: 'PATCH', url: '/api/v1/platform/catalogue/mistral', headers: as(orgA, 'operator'), payload: { defaultBaseUrl: `${server.url}/v1` } });
    expect(vouched.statusCode, vouched.body).toBe(200);
    const allowed = await check({ providerConfigId: mistral?.id, model: 'mistral-embed', kind: 'embedding' });
    expect(allowed.statusCode, allowed.body).toBe(200);
    expect(allowed.json()).toMatchObject({ allowed: true, placement: { region: 'eu' }, embeddingDimension: 1024 });
    expect(audited.at(-1)).toMatchObject({ action: 'provider.model_selection', outcome: 'success' });

    const badFallback = await check({ providerConfigId: mistral?.id, model: 'mistral-small-latest', kind: 'chat', fallback: { providerConfigId: openai.id, model: 'gpt-4o-mini' } });
    expect(badFallback.statusCode).toBe(409);
    expect(badFallback.json().errors).toEqual([{ field: 'body.fallback.model', message: 'refused by the "eu_only" policy' }]);

    const unknownModel = await check({ providerConfigId: mistral?.id, model: 'gpt-4o', kind: 'chat' });
    expect(unknownModel.statusCode).toBe(400);
    expect(unknownModel.json().errors[0]).toMatchObject({ field: 'body.model', message: expect.stringContaining('mistral-small-latest') });

    await app.inject({ method: 'PUT', url: '/api/v1/providers/policy', headers: as(orgA, 'owner'), payload: { euOnly: false, noTraining: true } });
    expect((await check({ providerConfigId: openai.id, model: 'gpt-4o-mini', kind: 'chat' })).statusCode).toBe(200);
    await app.inject({ method: 'PUT', url: '/api/v1/providers/policy', headers: as(orgA, 'owner'), payload: { euOnly: true, noTraining: true } });
  });

  it('an Azure resource outside the EU is refused under the EU-only policy; one in Sweden is allowed', async () => {
    const base = { providerId: 'azure-openai', apiKey: secrets[3], endpoint: server.url, azureDeployment: 'gpt4o', azureApiVersion: '2024-10-21' };
    const us = await createConfig(orgB, { ...base, label: 'Azure US', region: 'eastus' });
    const se = await createConfig(orgB, { ...base, label: 'Azure SE', region: 'swedencentral' });
    const check = (id: string) => app.inject({ method: 'POST', url: '/api/v1/providers/model-selection/check', headers: as(orgB, 'editor'), payload: { providerConfigId: id, model: 'gpt-4o', kind: 'chat' } });
    const refused = await check(us.id);
    expect(refused.statusCode).toBe(409);
    expect(refused.json().detail).toMatch(/processes data in Azure eastus/);
    expect((await check(se.id)).json()).toMatchObject({ placement: { region: 'eu', dataLocation: 'Azure swedencentral' } });
    server.expect('POST', '/openai/deployments/gpt4o/embeddings?api-version=2024-10-21', reply.json(200, embeddingsResponse([[0.1]])));
    const tested = await app.inject({ method: 'POST', url: `/api/v1/providers/configs/${se.id}/test`, headers: as(orgB, 'admin'), payload: { model: 'text-embedding-3-small', kind: 'embedding' } });
    expect(tested.json()).toMatchObject({ ok: true });
    expect(server.requests.at(-1)?.headers['api-key']).toBe(secrets[3]);
  });

  it('reports token usage per assistant and model, for the caller’s organisation only', async () => {
    const assistantId = '00000000-0000-4000-8000-000000000001';
    await withTenant(database.db, { organizationId: orgA }, (tx) =>
      tx.insert(tokenUsage).values([
        { organizationId: orgA, assistantId, providerId: 'mistral', model: 'mistral-small-latest', kind: 'chat', promptTokens: 100, completionTokens: 20 },
        { organizationId: orgA, assistantId, providerId: 'mistral', model: 'mistral-small-latest', kind: 'chat', promptTokens: 50, completionTokens: 5 },
      ]),
    );
    const response = await app.inject({ method: 'GET', url: '/api/v1/providers/usage', headers: as(orgA, 'analyst') });
    expect(response.json().usage).toEqual([{ assistantId, providerId: 'mistral', model: 'mistral-small-latest', kind: 'chat', promptTokens: 150, completionTokens: 25, calls: 2 }]);
    expect((await app.inject({ method: 'GET', url: '/api/v1/providers/usage', headers: as(orgB, 'analyst') })).json().usage).toEqual([]);
    expect((await app.inject({ method: 'GET', url: '/api/v1/providers/usage?since=yesterday', headers: as(orgA, 'analyst') })).json()).toMatchObject({ status: 400, errors: [{ field: 'query.since' }] });
  });

  it('no credential appears in clear anywhere in the database, nor in the logs', async () => {
    const dump = await dumpDatabaseText(database);
    expect(dump).toContain('Our datacentre in Lyon'); // the dump did read the tables
    expect(dump).toMatch(/sv1\./);
    for (const secret of secrets) {
      expect(dump).not.toContain(secret);
      expect(dump).not.toContain(Buffer.from(secret).toString('base64'));
      expect(logs.text).not.toContain(secret);
    }
  });
});

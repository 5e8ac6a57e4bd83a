import { randomUUID } from 'node:crypto';
import type { ProviderConfigRow } from '../db/schema/index.ts';
import { withTenant, type TenantContext } from '../db/tenancy.ts';
import { AppError } from '../http/errors.ts';
import type { ModelTarget } from './llm/chat-types.ts';
import { findCatalogueEntry, type CatalogueEntry } from './llm/catalogue.repo.ts';
import { scrubbedProviderError, toProviderError } from './llm/provider-error.ts';
import { placementOf, type ModelPlacement } from './policy/data-policy.ts';
import {
  deleteProviderConfig,
  findProviderConfig,
  insertProviderConfig,
  listProviderConfigs,
  updateProviderConfig,
  type ProviderConfigPatch,
} from './provider-configs.repo.ts';
import type { Actor, ProvidersDeps } from './providers-deps.ts';
import type { AppTx } from '../db/client.ts';

export interface ProviderConfigInput {
  providerId: string;
  label: string;
  apiKey?: string | null;
  endpoint?: string | null;
  region?: string | null;
  azureDeployment?: string | null;
  azureApiVersion?: string | null;
  statedRegion?: 'eu' | 'non-eu' | null;
  statedDataLocation?: string | null;
}

/** What the API shows of a configuration: never the key, only its last characters. */
export interface ProviderConfigView {
  id: string;
  providerId: string;
  label: string;
  credentialsHint: string | null;
  endpoint: string | null;
  region: string | null;
  azureDeployment: string | null;
  azureApiVersion: string | null;
  statedRegion: string | null;
  statedDataLocation: string | null;
  createdAt: string;
  updatedAt: string;
}

export const credentialsAad = (configId: string) => `provider_config:${configId}:credentials`;

export function maskedHint(apiKey: string): string {
  return apiKey.length >= 12 ? `••••${apiKey.slice(-4)}` : '••••';
}

export function toView(row: ProviderConfigRow): ProviderConfigView {
  return {
    id: row.id,
    providerId: row.providerId,
    label: row.label,
    credentialsHint: row.credentialsHint,
    endpoint: row.endpoint,
    region: row.region,
    azureDeployment: row.azureDeployment,
    azureApiVersion: row.azureApiVersion,
    statedRegion: row.statedRegion,
    statedDataLocation: row.statedDataLocation,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

export async function createConfig(deps: ProvidersDeps, tenant: TenantContext, actor: Actor, input: ProviderConfigInput): Promise<ProviderConfigView> {
  await deps.keyRing.ready(); // before the transaction: the first start creates a data key
  return withTenant(deps.db, tenant, async (tx) => {
    const provider = await requireProvider(tx, input.providerId, 'body.providerId');
    const id = randomUUID();
    const merged = { ...input, apiKey: input.apiKey ?? null };
    assertComplete(provider, merged);
    const row = await insertProviderConfig(tx, tenant, {
      id,
      providerId: provider.id,
      label: input.label,
      ...(await sealedCredentials(deps, id, merged.apiKey)),
      endpoint: input.endpoint ?? null,
      region: input.region ?? null,
      azureDeployment: input.azureDeployment ?? null,
      azureApiVersion: input.azureApiVersion ?? null,
      statedRegion: input.statedRegion ?? null,
      statedDataLocation: input.statedDataLocation ?? null,
    });
    await deps.audit(tx, { organizationId: tenant.organizationId, ...actor, action: 'provider_config.created', targetType: 'provider_config', targetId: id, outcome: 'success', details: { providerId: provider.id, label: input.label } });
    return toView(row);
  });
}

export async function listConfigs(deps: ProvidersDeps, tenant: TenantContext): Promise<ProviderConfigView[]> {
  return withTenant(deps.db, tenant, async (tx) => (await listProviderConfigs(tx, tenant)).map(toView));
}

export async function getConfig(deps: ProvidersDeps, tenant: TenantContext, id: string): Promise<ProviderConfigView> {
  return withTenant(deps.db, tenant, async (tx) => toView(await requireConfig(tx, tenant, id)));
}

export async function updateConfig(deps: ProvidersDeps, tenant: TenantContext, actor: Actor, id: string, patch: Omit<Partial<ProviderConfigInput>, 'providerId'>): Promise<ProviderConfigView> {
  await deps.keyRing.ready();
  return withTenant(deps.db, tenant, async (tx) => {
    const existing = await requireConfig(tx, tenant, id);
    const provider = await requireProvider(tx, existing.providerId, 'body.providerId');
    const changes: ProviderConfigPatch = {};
    for (const field of ['label', 'endpoint', 'region', 'azureDeployment', 'azureApiVersion', 'statedRegion', 'statedDataLocation'] as const) {
      if (patch[field] !== undefined) (changes as Record<string, unknown>)[field] = patch[field];
    }
    // Where the key is sent is part of what the key was entrusted for: moving the endpoint (or the
    // Azure resource) without re-entering the key would let a manager deliver it to any server.
    const moved = (['endpoint', 'region', 'azureDeployment'] as const).some((field) => patch[field] !== undefined && patch[field] !== existing[field]);
    if (moved && patch.apiKey === undefined && existing.credentialsSealed) {
      throw new AppError('validation_failed', 'Re-enter the API key when changing where it is sent', { errors: [{ field: 'body.apiKey', message: 're-enter the key when changing the endpoint' }] });
    }
    if (patch.apiKey !== undefined) Object.assign(changes, await sealedCredentials(deps, id, patch.apiKey));
    assertComplete(provider, { ...existing, ...changes, apiKey: patch.apiKey !== undefined ? patch.apiKey : existing.credentialsSealed });
    const row = (await updateProviderConfig(tx, tenant, id, changes)) as ProviderConfigRow;
    const changed = Object.keys(changes).map((f) => (f === 'credentialsSealed' || f === 'credentialsHint' ? 'apiKey' : f));
    await deps.audit(tx, { organizationId: tenant.organizationId, ...actor, action: 'provider_config.updated', targetType: 'provider_config', targetId: id, outcome: 'success', details: { changed: [...new Set(changed)] } });
    return toView(row);
  });
}

export async function deleteConfig(deps: ProvidersDeps, tenant: TenantContext, actor: Actor, id: string): Promise<void> {
  await withTenant(deps.db, tenant, async (tx) => {
    if (!(await deleteProviderConfig(tx, tenant, id))) throw new AppError('not_found', 'No such provider configuration');
    await deps.audit(tx, { organizationId: tenant.organizationId, ...actor, action: 'provider_config.deleted', targetType: 'provider_config', targetId: id, outcome: 'success' });
  });
}

/** A configuration turned into something the client can call, with the model's placement for the policy. */
export interface ResolvedModel {
  target: ModelTarget;
  placement: ModelPlacement;
  provider: CatalogueEntry;
  contextLengthTokens: number | null;
  embeddingDimension: number | null;
  /** The model was retired from the catalogue (still served for selections made before). */
  retired: boolean;
}

/**
 * Resolves `model` through configuration `configId`: the model must be in the provider's
 * catalogue (unless the provider serves any model); credentials are opened here, in memory only.
 * `field` names the request field at fault in errors.
 */
export async function resolveModel(
  deps: ProvidersDeps,
  tx: AppTx,
  tenant: TenantContext,
  selection: { providerConfigId: string; model: string; kind: 'chat' | 'embedding' },
  field = 'body',
  options: { existingSelection?: boolean } = {},
): Promise<ResolvedModel> {
  const config = await findProviderConfig(tx, tenant, selection.providerConfigId);
  if (!config) throw new AppError('not_found', 'No such provider configuration', { errors: [{ field: `${field}.providerConfigId`, message: 'no such provider configuration' }] });
  const provider = await requireProvider(tx, config.providerId, `${field}.providerConfigId`, { includeRetired: true });
  const listed = provider.models.find((m) => m.model === selection.model && m.kind === selection.kind);
  const retired = Boolean(listed?.retiredAt);
  // Retiring a model must not break the assistants already using it at call time: only a new choice is refused.
  if (retired && !options.existingSelection) {
    const offered = provider.models.filter((m) => m.kind === selection.kind && !m.retiredAt).map((m) => m.model);
    throw new AppError('validation_failed', `${selection.model} was retired from the ${provider.name} catalogue: choose another model`, {
      errors: [{ field: `${field}.model`, message: `retired; expected one of: ${offered.join(', ') || 'none'}` }],
    });
  }
  if (retired) deps.warn?.({ providerConfigId: config.id, providerId: provider.id, model: selection.model, kind: selection.kind }, 'a retired model is still in use: move its selections to another model');
  if (!listed && !provider.acceptsAnyModel) {
    const offered = provider.models.filter((m) => m.kind === selection.kind && !m.retiredAt).map((m) => m.model);
    throw new AppError('validation_failed', `${provider.name} offers no ${selection.kind} model named ${selection.model}`, {
      errors: [{ field: `${field}.model`, message: `expected one of: ${offered.join(', ') || `none (${provider.name} has no ${selection.kind} model)`}` }],
    });
  }
  const apiKey = config.credentialsSealed ? await deps.keyRing.open(config.credentialsSealed, credentialsAad(config.id), tx) : undefined;
  const target: ModelTarget = {
    key: config.id,
    label: provider.name,
    providerId: provider.id,
    protocol: provider.protocol,
    model: selection.model,
    apiKey,
    baseUrl: config.endpoint ?? provider.defaultBaseUrl ?? undefined,
    ...(provider.protocol === 'azure-openai'
      ? { azure: { endpoint: config.endpoint ?? '', deployment: config.azureDeployment ?? selection.model, apiVersion: config.azureApiVersion ?? '' } }
      : {}),
  };
  return {
    target,
    placement: placementOf(provider, config, selection.model, selection.kind),
    provider,
    contextLengthTokens: listed?.contextLengthTokens ?? null,
    embeddingDimension: listed?.embeddingDimension ?? null,
    retired,
  };
}

export interface ConnectionTestResult {
  ok: boolean;
  model: string;
  latencyMs: number;
  error?: { failure: string; message: string; status?: number };
}

/** A tiny real call (one token, or one short embedding) through the configuration. */
export async function testConnection(deps: ProvidersDeps, tenant: TenantContext, actor: Actor, id: string, requested: { model?: string; kind?: 'chat' | 'embedding' }): Promise<ConnectionTestResult> {
  const resolved = await withTenant(deps.db, tenant, async (tx) => {
    const config = await requireConfig(tx, tenant, id);
    const provider = await requireProvider(tx, config.providerId, 'params.configId');
    const kind = requested.kind ?? 'chat';
    const model = requested.model ?? provider.models.find((m) => m.kind === kind)?.model;
    if (!model) throw new AppError('validation_failed', `Say which ${kind} model to test`, { errors: [{ field: 'body.model', message: 'required for this provider' }] });
    return resolveModel(deps, tx, tenant, { providerConfigId: id, model, kind }, 'body', { existingSelection: true });
  });
  const started = performance.now();
  let result: ConnectionTestResult;
  try {
    if (resolved.placement.kind === 'embedding') {
      await deps.llm.withResilience(resolved.target, undefined, (signal) =>
        deps.llm.sdkFor(resolved.target).embeddings.create({ model: resolved.target.model, input: ['ping'], encoding_format: 'float' }, { signal }),
      );
    } else {
      await deps.llm.complete(resolved.target, { messages: [{ role: 'user', content: 'ping' }], maxOutputTokens: 1 });
    }
    result = { ok: true, model: resolved.target.model, latencyMs: Math.round(performance.now() - started) };
  } catch (error) {
    const failure = scrubbedProviderError(toProviderError(error, resolved.target.label, undefined, resolved.target.apiKey), resolved.target.apiKey);
    // No HTTP answer (refused address, DNS, closed port, timeout, redirect, garbage): one generic
    // answer, so the test cannot map what listens where.
    const shown = failure.details.status || failure.failure === 'circuit_open' ? { failure: failure.failure, message: failure.message, ...(failure.details.status ? { status: failure.details.status } : {}) } : { failure: 'unreachable', message: `${resolved.target.label} could not be reached` };
    result = { ok: false, model: resolved.target.model, latencyMs: Math.round(performance.now() - started), error: shown };
  }
  await withTenant(deps.db, tenant, (tx) =>
    deps.audit(tx, { organizationId: tenant.organizationId, ...actor, action: 'provider_config.connection_tested', targetType: 'provider_config', targetId: id, outcome: result.ok ? 'success' : 'failure', details: { model: result.model, latencyMs: result.latencyMs, ...(result.error ? { failure: result.error.failure } : {}) } }),
  );
  return result;
}

async function requireConfig(tx: AppTx, tenant: TenantContext, id: string): Promise<ProviderConfigRow> {
  const row = await findProviderConfig(tx, tenant, id);
  // Another organisation's configuration answers exactly like a missing one.
  if (!row) throw new AppError('not_found', 'No such provider configuration');
  return row;
}

async function requireProvider(tx: AppTx, providerId: string, field: string, options: { includeRetired?: boolean } = {}): Promise<CatalogueEntry> {
  const provider = await findCatalogueEntry(tx, providerId, options);
  if (!provider) throw new AppError('validation_failed', `Unknown provider ${providerId}`, { errors: [{ field, message: 'not in the provider catalogue' }] });
  return provider;
}

async function sealedCredentials(deps: ProvidersDeps, configId: string, apiKey: string | null): Promise<{ credentialsSealed: string | null; credentialsHint: string | null }> {
  if (!apiKey) return { credentialsSealed: null, credentialsHint: null };
  return { credentialsSealed: await deps.keyRing.seal(apiKey, credentialsAad(configId)), credentialsHint: maskedHint(apiKey) };
}

/** What each protocol needs before it can be called; refused with the field at fault. */
function assertComplete(
  provider: CatalogueEntry,
  config: { apiKey?: string | null; endpoint?: string | null; region?: string | null; azureDeployment?: string | null; azureApiVersion?: string | null; statedRegion?: string | null },
): void {
  const missing: { field: string; message: string }[] = [];
  if (provider.protocol === 'azure-openai') {
    if (!config.endpoint) missing.push({ field: 'body.endpoint', message: 'the Azure resource endpoint, e.g. https://my-resource.openai.azure.com' });
    if (!config.azureDeployment) missing.push({ field: 'body.azureDeployment', message: 'the deployment name in the Azure resource' });
    if (!config.azureApiVersion) missing.push({ field: 'body.azureApiVersion', message: 'the API version, e.g. 2024-10-21' });
    if (!config.region) missing.push({ field: 'body.region', message: "the Azure resource's region, e.g. swedencentral (decides the data location)" });
  }
  if (provider.protocol === 'openai' && !provider.defaultBaseUrl && !config.endpoint) {
    missing.push({ field: 'body.endpoint', message: "the server's base URL, e.g. http://10.0.0.5:8000/v1" });
  }
  if (provider.region === 'per-configuration' && provider.protocol === 'openai' && !config.statedRegion) {
    missing.push({ field: 'body.statedRegion', message: 'where the server processes data: eu or non-eu' });
  }
  if (provider.protocol !== 'local' && provider.id !== 'openai-compatible' && !config.apiKey) {
    missing.push({ field: 'body.apiKey', message: `${provider.name} needs an API key` });
  }
  if (missing.length > 0) throw new AppError('validation_failed', `The ${provider.name} configuration is incomplete`, { errors: missing });
}

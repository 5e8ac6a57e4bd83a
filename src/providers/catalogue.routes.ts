import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { withUnscoped } from '../db/tenancy.ts';
import { AppError } from '../http/errors.ts';
import { anyPrincipalOf } from '../http/route-access.ts';
import { actorOf } from './http-support.ts';
import { findCatalogueEntry, listCatalogue, retireCatalogueModel, updateCatalogueProvider, upsertCatalogueModel, type CatalogueEntry } from './llm/catalogue.repo.ts';
import type { ProvidersDeps } from './providers-deps.ts';

const modelSchema = z.object({
  model: z.string(),
  kind: z.enum(['chat', 'embedding']),
  contextLengthTokens: z.number().int(),
  embeddingDimension: z.number().int().nullable(),
  retired: z.boolean(),
});

export const catalogueEntrySchema = z.object({
  id: z.string(),
  name: z.string(),
  protocol: z.enum(['openai', 'azure-openai', 'local']),
  description: z.string(),
  region: z.enum(['eu', 'non-eu', 'on-server', 'per-configuration']).describe('where data is processed; per-configuration = the Azure region or what the operator of a self-hosted server states'),
  dataLocation: z.string(),
  trainsOnData: z.boolean().describe('whether the provider reuses data sent to it for training'),
  policyUrl: z.string(),
  defaultBaseUrl: z.string().nullable(),
  acceptsAnyModel: z.boolean(),
  models: z.array(modelSchema),
});

function present(entry: CatalogueEntry): z.infer<typeof catalogueEntrySchema> {
  return {
    id: entry.id,
    name: entry.name,
    protocol: entry.protocol,
    description: entry.description,
    region: entry.region,
    dataLocation: entry.dataLocation,
    trainsOnData: entry.trainsOnData,
    policyUrl: entry.policyUrl,
    defaultBaseUrl: entry.defaultBaseUrl,
    acceptsAnyModel: entry.acceptsAnyModel,
    models: entry.models.map((m) => ({ model: m.model, kind: m.kind, contextLengthTokens: m.contextLengthTokens, embeddingDimension: m.embeddingDimension, retired: m.retiredAt !== null })),
  };
}

const providerIdParams = z.object({ providerId: z.string().min(1).max(100) });
const httpsOrHttpUrl = z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' });

export function registerCatalogueRoutes(app: FastifyInstance, deps: ProvidersDeps): void {
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.get(
    '/api/v1/providers/catalogue',
    {
      config: { permission: 'providers:read' },
      schema: {
        summary: 'Every provider Savoir can use, with its compliance metadata (training reuse, data location, policy) and models',
        tags: ['providers'],
        response: { 200: z.object({ providers: z.array(catalogueEntrySchema) }) },
      },
    },
    async () => ({ providers: (await withUnscoped(deps.db, (tx) => listCatalogue(tx))).map(present) }),
  );

  r.get(
    '/api/v1/platform/catalogue',
    {
      config: { permission: 'catalogue:manage' },
      schema: { summary: 'The provider catalogue, retired models included (platform operators)', tags: ['platform'], response: { 200: z.object({ providers: z.array(catalogueEntrySchema) }) } },
    },
    async () => ({ providers: (await withUnscoped(deps.db, (tx) => listCatalogue(tx, { includeRetired: true }))).map(present) }),
  );

  r.patch(
    '/api/v1/platform/catalogue/:providerId',
    {
      config: { permission: 'catalogue:manage' },
      schema: {
        summary: "Edit a provider's compliance metadata (platform operators)",
        tags: ['platform'],
        params: providerIdParams,
        body: z
          .object({
            name: z.string().trim().min(1).max(200),
            description: z.string().max(2000),
            region: z.enum(['eu', 'non-eu', 'on-server', 'per-configuration']),
            dataLocation: z.string().trim().min(1).max(200),
            trainsOnData: z.boolean(),
            policyUrl: httpsOrHttpUrl,
            defaultBaseUrl: httpsOrHttpUrl.nullable(),
          })
          .partial()
          .strict(),
        response: { 200: catalogueEntrySchema },
      },
    },
    async (request) => {
      const actor = actorOf(anyPrincipalOf(request));
      const { providerId } = request.params;
      const entry = await withUnscoped(deps.db, async (tx) => {
        const updated = await updateCatalogueProvider(tx, providerId, request.body);
        if (!updated) throw new AppError('not_found', 'No such provider in the catalogue');
        await deps.audit(tx, { organizationId: null, ...actor, action: 'catalogue.provider_updated', targetType: 'catalogue_provider', targetId: providerId, outcome: 'success', details: { changed: request.body } });
        return (await findCatalogueEntry(tx, providerId, { includeRetired: true })) as CatalogueEntry;
      });
      return present(entry);
    },
  );

  r.put(
    '/api/v1/platform/catalogue/:providerId/models',
    {
      config: { permission: 'catalogue:manage' },
      schema: {
        summary: "Add a model to a provider's catalogue entry, or update (and un-retire) one (platform operators)",
        tags: ['platform'],
        params: providerIdParams,
        body: z
          .object({
            model: z.string().trim().min(1).max(200),
            kind: z.enum(['chat', 'embedding']),
            contextLengthTokens: z.number().int().min(1).max(100_000_000),
            embeddingDimension: z.number().int().min(1).max(100_000).optional(),
          })
          .strict()
          .refine((m) => (m.kind === 'embedding') === (m.embeddingDimension !== undefined), { path: ['embeddingDimension'], message: 'required for an embedding model, and only for one' }),
        response: { 200: catalogueEntrySchema },
      },
    },
    async (request) => {
      const actor = actorOf(anyPrincipalOf(request));
      const { providerId } = request.params;
      const entry = await withUnscoped(deps.db, async (tx) => {
        if (!(await findCatalogueEntry(tx, providerId))) throw new AppError('not_found', 'No such provider in the catalogue');
        await upsertCatalogueModel(tx, { providerId, ...request.body, embeddingDimension: request.body.embeddingDimension ?? null });
        await deps.audit(tx, { organizationId: null, ...actor, action: 'catalogue.model_upserted', targetType: 'catalogue_provider', targetId: providerId, outcome: 'success', details: { ...request.body } });
        return (await findCatalogueEntry(tx, providerId, { includeRetired: true })) as CatalogueEntry;
      });
      return present(entry);
    },
  );

  r.delete(
    '/api/v1/platform/catalogue/:providerId/models/:kind/:model',
    {
      config: { permission: 'catalogue:manage' },
      schema: {
        summary: 'Retire a model from the catalogue (platform operators); it is no longer offered for new selections',
        tags: ['platform'],
        params: providerIdParams.extend({ kind: z.enum(['chat', 'embedding']), model: z.string().min(1).max(200) }),
        response: { 204: z.null() },
      },
    },
    async (request, reply) => {
      const actor = actorOf(anyPrincipalOf(request));
      const { providerId, kind, model } = request.params;
      await withUnscoped(deps.db, async (tx) => {
        if (!(await retireCatalogueModel(tx, { providerId, kind, model }))) throw new AppError('not_found', 'No such model in the catalogue');
        await deps.audit(tx, { organizationId: null, ...actor, action: 'catalogue.model_retired', targetType: 'catalogue_provider', targetId: providerId, outcome: 'success', details: { model, kind } });
      });
      return reply.status(204).send(null);
    },
  );
}

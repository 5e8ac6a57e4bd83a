import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { withTenant } from '../db/tenancy.ts';
import { principalOf } from '../http/route-access.ts';
import { actorOf } from './http-support.ts';
import { checkModelSelection } from './model-access.service.ts';
import { tokenUsageTotals } from './provider-configs.repo.ts';
import { createConfig, deleteConfig, getConfig, listConfigs, testConnection, updateConfig } from './provider-configs.service.ts';
import type { ProvidersDeps } from './providers-deps.ts';

const configViewSchema = z.object({
  id: z.uuid(),
  providerId: z.string(),
  label: z.string(),
  credentialsHint: z.string().nullable().describe('the last characters of the API key; the key itself never leaves the server'),
  endpoint: z.string().nullable(),
  region: z.string().nullable(),
  azureDeployment: z.string().nullable(),
  azureApiVersion: z.string().nullable(),
  statedRegion: z.string().nullable(),
  statedDataLocation: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});

const endpointUrl = z
  .url({ protocol: /^https?$/, error: 'expected an http(s) URL' })
  .max(500)
  // Credentials belong in apiKey (sealed), not in a URL shown to everyone; a query string has no place in a base URL.
  .refine((value) => { const url = new URL(value); return !url.username && !url.password; }, 'expected a URL without user name or password (put the key in apiKey)')
  .refine((value) => { const url = new URL(value); return !url.search && !url.hash; }, 'expected a base URL without a query string or fragment');
const configFields = {
  label: z.string().trim().min(1, 'expected a label').max(200),
  apiKey: z.string().min(1).max(4096).nullable().describe('write-only: sealed at rest, never returned'),
  endpoint: endpointUrl.nullable(),
  region: z.string().trim().max(100).nullable(),
  azureDeployment: z.string().trim().max(200).nullable(),
  azureApiVersion: z.string().regex(/^\d{4}-\d{2}-\d{2}(-preview)?$/, 'expected an API version such as 2024-10-21').nullable(),
  statedRegion: z.enum(['eu', 'non-eu']).nullable(),
  statedDataLocation: z.string().trim().max(200).nullable(),
};
const configIdParams = z.object({ configId: z.uuid({ error: 'expected a provider configuration id (UUID)' }) });
const kindSchema = z.enum(['chat', 'embedding']);
const placementSchema = z.object({
  providerId: z.string(),
  providerName: z.string(),
  model: z.string(),
  kind: kindSchema,
  region: z.enum(['eu', 'non-eu', 'on-server', 'unknown']),
  dataLocation: z.string(),
  trainsOnData: z.boolean(),
  policyUrl: z.string(),
});

export function registerProviderConfigRoutes(app: FastifyInstance, deps: ProvidersDeps): void {
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.get(
    '/api/v1/providers/configs',
    {
      config: { permission: 'providers:read' },
      schema: { summary: "The organisation's provider configurations (credentials masked)", tags: ['providers'], response: { 200: z.object({ configs: z.array(configViewSchema) }) } },
    },
    async (request) => ({ configs: await listConfigs(deps, principalOf(request)) }),
  );

  r.post(
    '/api/v1/providers/configs',
    {
      config: { permission: 'providers:manage' },
      schema: {
        summary: 'Connect the organisation to a provider; the API key is sealed at rest',
        tags: ['providers'],
        body: z.object({ providerId: z.string().min(1).max(100), ...configFields, apiKey: configFields.apiKey.optional() }).partial({ endpoint: true, region: true, azureDeployment: true, azureApiVersion: true, statedRegion: true, statedDataLocation: true }).strict(),
        response: { 201: configViewSchema },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      return reply.status(201).send(await createConfig(deps, principal, actorOf(principal), request.body));
    },
  );

  r.get(
    '/api/v1/providers/configs/:configId',
    {
      config: { permission: 'providers:read' },
      schema: { summary: 'One provider configuration (credentials masked)', tags: ['providers'], params: configIdParams, response: { 200: configViewSchema } },
    },
    async (request) => getConfig(deps, principalOf(request), request.params.configId),
  );

  r.patch(
    '/api/v1/providers/configs/:configId',
    {
      config: { permission: 'providers:manage' },
      schema: {
        summary: 'Change a provider configuration; give apiKey to replace the key, null to remove it',
        tags: ['providers'],
        params: configIdParams,
        body: z.object(configFields).partial().strict(),
        response: { 200: configViewSchema },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      return updateConfig(deps, principal, actorOf(principal), request.params.configId, request.body);
    },
  );

  r.delete(
    '/api/v1/providers/configs/:configId',
    {
      config: { permission: 'providers:manage' },
      schema: { summary: 'Delete a provider configuration and its sealed credentials', tags: ['providers'], params: configIdParams, response: { 204: z.null() } },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      await deleteConfig(deps, principal, actorOf(principal), request.params.configId);
      return reply.status(204).send(null);
    },
  );

  r.post(
    '/api/v1/providers/configs/:configId/test',
    {
      config: { permission: 'providers:manage' },
      schema: {
        summary: "Test the connection with a tiny real call; reports the latency or the provider's error",
        tags: ['providers'],
        params: configIdParams,
        body: z.object({ model: z.string().min(1).max(200), kind: kindSchema }).partial().strict().optional(),
        response: {
          200: z.object({
            ok: z.boolean(),
            model: z.string(),
            latencyMs: z.number().int(),
            error: z.object({ failure: z.string(), message: z.string(), status: z.number().int().optional() }).optional(),
          }),
        },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      return testConnection(deps, principal, actorOf(principal), request.params.configId, request.body ?? {});
    },
  );

  r.post(
    '/api/v1/providers/model-selection/check',
    {
      config: { permission: 'providers:read' },
      schema: {
        summary: "Check a model choice (and its fallback) against the organisation's data policy; a refusal answers 409 and is audited",
        tags: ['providers'],
        body: z
          .object({
            providerConfigId: z.uuid(),
            model: z.string().min(1).max(200),
            kind: kindSchema,
            fallback: z.object({ providerConfigId: z.uuid(), model: z.string().min(1).max(200) }).strict().optional(),
          })
          .strict(),
        response: {
          200: z.object({
            allowed: z.literal(true),
            placement: placementSchema,
            fallbackPlacement: placementSchema.nullable(),
            contextLengthTokens: z.number().int().nullable(),
            embeddingDimension: z.number().int().nullable(),
          }),
        },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      return checkModelSelection(deps, principal, actorOf(principal), request.body);
    },
  );

  r.get(
    '/api/v1/providers/usage',
    {
      config: { permission: 'providers:read' },
      schema: {
        summary: 'Tokens used per assistant and model since a date (default: the last 30 days)',
        tags: ['providers'],
        querystring: z.object({ since: z.iso.datetime({ error: 'expected an ISO 8601 date-time' }).optional() }),
        response: {
          200: z.object({
            since: z.string(),
            usage: z.array(
              z.object({ assistantId: z.string().nullable(), providerId: z.string(), model: z.string(), kind: kindSchema, promptTokens: z.number(), completionTokens: z.number(), calls: z.number().int() }),
            ),
          }),
        },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const since = request.query.since ? new Date(request.query.since) : new Date(Date.now() - 30 * 24 * 3_600_000);
      const usage = await withTenant(deps.db, principal, (tx) => tokenUsageTotals(tx, principal, since));
      return { since: since.toISOString(), usage };
    },
  );
}

import { AppError } from '../../http/errors.ts';
import { withTenant, type TenantContext } from '../../db/tenancy.ts';
import { estimateTokens } from '../llm/llm-client.ts';
import { assertModelAllowed, PolicyViolationError } from '../policy/data-policy.ts';
import { getDataPolicy } from '../policy/data-policy.repo.ts';
import { recordTokenUsage } from '../provider-configs.repo.ts';
import { resolveModel } from '../provider-configs.service.ts';
import { policyRefusal } from '../model-access.service.ts';
import type { ProvidersDeps } from '../providers-deps.ts';
import type { EmbeddingProvider } from './embedding-provider.ts';
import { OpenAiProtocolEmbeddings } from './openai-embeddings.ts';

/**
 * An organisation's embedding model as the knowledge room uses it. Every `embed` call checks the
 * data policy again (it may have changed since the model was chosen; a refusal is audited and
 * thrown) and records token usage.
 */
export async function openOrganizationEmbeddings(
  deps: ProvidersDeps,
  tenant: TenantContext,
  selection: { providerConfigId: string; model: string },
): Promise<EmbeddingProvider> {
  const resolved = await withTenant(deps.db, tenant, (tx) => resolveModel(deps, tx, tenant, { ...selection, kind: 'embedding' }, 'selection', { existingSelection: true }));
  if (!resolved.embeddingDimension) throw new Error(`the dimension of ${selection.model} is unknown: add it to the catalogue`);
  const inner = new OpenAiProtocolEmbeddings(deps.llm, resolved.target, resolved.embeddingDimension);
  return {
    modelKey: inner.modelKey,
    dimension: inner.dimension,
    embed: async (texts, options) => {
      const refusal = await withTenant(deps.db, tenant, async (tx) => {
        const policy = await getDataPolicy(tx, tenant);
        try {
          assertModelAllowed(policy, resolved.placement);
          return undefined;
        } catch (error) {
          if (!(error instanceof PolicyViolationError)) throw error;
          await deps.audit(tx, {
            organizationId: tenant.organizationId,
            actorType: 'system',
            actorId: null,
            action: 'provider.call_refused',
            targetType: 'provider_config',
            targetId: selection.providerConfigId,
            outcome: 'failure',
            details: { model: selection.model, kind: 'embedding', providerId: resolved.placement.providerId, region: resolved.placement.region, refusedBy: error.rule },
          });
          return error;
        }
      });
      if (refusal) throw policyRefusal(refusal);
      const vectors = await inner.embed(texts, options);
      await withTenant(deps.db, tenant, (tx) =>
        recordTokenUsage(tx, tenant, {
          assistantId: null,
          providerConfigId: selection.providerConfigId,
          providerId: resolved.placement.providerId,
          model: selection.model,
          kind: 'embedding',
          promptTokens: estimateTokens(texts.join('\n')),
          completionTokens: 0,
          estimated: true,
        }),
      );
      return vectors;
    },
  };
}

/**
 * The knowledge room's embedding models, named `<provider configuration id>/<model>` (for example
 * `3f6c…/mistral-embed`): the organisation's own configuration, under its data policy at every call.
 * Unknown names resolve to nothing, which the knowledge room reports as a bad model key.
 */
export function organizationEmbeddingResolver(deps: ProvidersDeps): (organizationId: string, modelKey: string) => Promise<EmbeddingProvider | undefined> {
  return async (organizationId, modelKey) => {
    const match = /^([0-9a-f-]{36})\/(.+)$/i.exec(modelKey);
    if (!match) return undefined;
    const [, providerConfigId, model] = match as unknown as [string, string, string];
    try {
      const provider = await openOrganizationEmbeddings(deps, { organizationId }, { providerConfigId, model });
      // Vectors are stored under the name the organisation chose, so a model change is visible.
      return { modelKey, dimension: provider.dimension, embed: (texts, options) => provider.embed(texts, options) };
    } catch (error) {
      if (error instanceof AppError && error.status < 500) return undefined;
      throw error;
    }
  };
}

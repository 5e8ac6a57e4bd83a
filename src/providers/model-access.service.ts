import { withTenant, type TenantContext } from '../db/tenancy.ts';
import { AppError } from '../http/errors.ts';
import type { ChatEvent, ChatRequest } from './llm/chat-types.ts';
import { assertModelAllowed, PolicyViolationError, type DataPolicy, type ModelPlacement } from './policy/data-policy.ts';
import { getDataPolicy } from './policy/data-policy.repo.ts';
import { recordTokenUsage } from './provider-configs.repo.ts';
import { resolveModel, type ResolvedModel } from './provider-configs.service.ts';
import type { Actor, ProvidersDeps } from './providers-deps.ts';

export interface ModelSelection {
  providerConfigId: string;
  model: string;
  kind: 'chat' | 'embedding';
  /** Used when the model fails before answering; must satisfy the same policy. */
  fallback?: { providerConfigId: string; model: string };
}

export interface SelectionResult {
  allowed: true;
  placement: ModelPlacement;
  fallbackPlacement: ModelPlacement | null;
  contextLengthTokens: number | null;
  embeddingDimension: number | null;
}

/**
 * Checks a model choice against the organisation's data policy (an assistant's model, an
 * embedding model). Audited either way; a refusal is a 409 naming the switch and the location,
 * recorded before it is returned.
 */
export async function checkModelSelection(deps: ProvidersDeps, tenant: TenantContext, actor: Actor, selection: ModelSelection): Promise<SelectionResult> {
  const outcome = await withTenant(deps.db, tenant, async (tx) => {
    const policy = await getDataPolicy(tx, tenant);
    const primary = await resolveModel(deps, tx, tenant, selection, 'body');
    const fallback = selection.fallback
      ? await resolveModel(deps, tx, tenant, { ...selection.fallback, kind: selection.kind }, 'body.fallback')
      : undefined;
    const violation = firstViolation(policy, primary, fallback);
    await deps.audit(tx, {
      organizationId: tenant.organizationId,
      ...actor,
      action: 'provider.model_selection',
      targetType: 'provider_config',
      targetId: selection.providerConfigId,
      outcome: violation ? 'failure' : 'success',
      details: {
        model: selection.model,
        kind: selection.kind,
        providerId: primary.placement.providerId,
        region: primary.placement.region,
        ...(fallback ? { fallbackModel: fallback.placement.model, fallbackProviderId: fallback.placement.providerId } : {}),
        ...(violation ? { refusedBy: violation.error.rule, refusedModel: violation.error.placement.model } : {}),
      },
    });
    return { primary, fallback, violation };
  });
  if (outcome.violation) {
    throw new AppError('conflict', outcome.violation.error.message, { errors: [{ field: outcome.violation.field, message: `refused by the "${outcome.violation.error.rule}" policy` }] });
  }
  return {
    allowed: true,
    placement: outcome.primary.placement,
    fallbackPlacement: outcome.fallback?.placement ?? null,
    contextLengthTokens: outcome.primary.contextLengthTokens,
    embeddingDimension: outcome.primary.embeddingDimension,
  };
}

function firstViolation(policy: DataPolicy, primary: ResolvedModel, fallback: ResolvedModel | undefined): { error: PolicyViolationError; field: string } | undefined {
  for (const [resolved, field] of [
    [primary, 'body.model'],
    [fallback, 'body.fallback.model'],
  ] as const) {
    if (!resolved) continue;
    try {
      assertModelAllowed(policy, resolved.placement);
    } catch (error) {
      if (error instanceof PolicyViolationError) return { error, field };
      throw error;
    }
  }
  return undefined;
}

/** A call-time refusal as the API answers it: 409 with the policy's own explanation (not a 500). */
export function policyRefusal(error: PolicyViolationError): AppError {
  return new AppError('conflict', error.message);
}

export interface ChatCall {
  selection: Omit<ModelSelection, 'kind'>;
  /** The assistant the answer is for, for token usage; null for platform calls. */
  assistantId: string | null;
}

/**
 * Streams a chat answer for an organisation. The policy is checked again at call time (it may
 * have changed since the model was chosen): a refused primary stops the call with an audit event;
 * a refused fallback is dropped (audited) and the primary still answers. Token usage is recorded
 * once the answer is complete.
 */
export async function* streamOrganizationChat(deps: ProvidersDeps, tenant: TenantContext, call: ChatCall, request: ChatRequest): AsyncGenerator<ChatEvent> {
  const system: Actor = { actorType: 'system', actorId: null };
  const prepared = await withTenant(deps.db, tenant, async (tx) => {
    const policy = await getDataPolicy(tx, tenant);
    const primary = await resolveModel(deps, tx, tenant, { ...call.selection, kind: 'chat' }, 'selection', { existingSelection: true });
    let fallback = call.selection.fallback ? await resolveModel(deps, tx, tenant, { ...call.selection.fallback, kind: 'chat' }, 'selection.fallback', { existingSelection: true }) : undefined;
    for (const candidate of [primary, fallback]) {
      if (!candidate) continue;
      try {
        assertModelAllowed(policy, candidate.placement);
      } catch (error) {
        if (!(error instanceof PolicyViolationError)) throw error;
        const isPrimary = candidate === primary;
        await deps.audit(tx, {
          organizationId: tenant.organizationId,
          ...system,
          action: isPrimary ? 'provider.call_refused' : 'provider.fallback_refused',
          targetType: 'provider_config',
          targetId: candidate.target.key,
          outcome: 'failure',
          details: { model: candidate.placement.model, providerId: candidate.placement.providerId, region: candidate.placement.region, refusedBy: error.rule, assistantId: call.assistantId },
        });
        if (isPrimary) return { refused: error };
        fallback = undefined;
      }
    }
    return { primary, fallback };
  });
  // Thrown after the transaction committed, so the refusal's audit event stays.
  if ('refused' in prepared && prepared.refused) throw policyRefusal(prepared.refused);

  for await (const event of deps.llm.streamChat(prepared.primary.target, request, prepared.fallback?.target)) {
    if (event.type === 'done') {
      await withTenant(deps.db, tenant, (tx) =>
        recordTokenUsage(tx, tenant, {
          assistantId: call.assistantId,
          providerConfigId: event.target.key,
          providerId: event.target.providerId,
          model: event.target.model,
          kind: 'chat',
          promptTokens: event.usage.promptTokens,
          completionTokens: event.usage.completionTokens,
          estimated: event.usage.estimated,
        }),
      );
    }
    yield event;
  }
}

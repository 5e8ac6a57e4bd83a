import type { CatalogueEntry } from '../llm/catalogue.repo.ts';
import { knownProviderHosts } from '../llm/catalogue-seed.ts';

/** An organisation's data policy: where its data may go, and whether it may train models. */
export interface DataPolicy {
  euOnly: boolean;
  noTraining: boolean;
}

/** A new organisation gets both switches on. */
export const defaultDataPolicy: DataPolicy = { euOnly: true, noTraining: true };

/** Where a model runs and what its provider does with the data, once the configuration is known. */
export interface ModelPlacement {
  providerId: string;
  providerName: string;
  model: string;
  kind: 'chat' | 'embedding';
  region: 'eu' | 'non-eu' | 'on-server' | 'unknown';
  dataLocation: string;
  trainsOnData: boolean;
  policyUrl: string;
}

/** Azure regions inside the European Union (Azure's own region names). */
export const azureEuRegions = new Set([
  'swedencentral',
  'francecentral',
  'francesouth',
  'germanywestcentral',
  'germanynorth',
  'westeurope',
  'northeurope',
  'italynorth',
  'polandcentral',
  'spaincentral',
  'austriaeast',
  'belgiumcentral',
  'denmarkeast',
]);

export interface PlacementConfig {
  /** The configuration's endpoint override, if any. */
  endpoint: string | null;
  region: string | null;
  statedRegion: string | null;
  statedDataLocation: string | null;
}

/** The placement of `model` served through a configuration of `provider`. */
export function placementOf(provider: CatalogueEntry, config: PlacementConfig, model: string, kind: 'chat' | 'embedding'): ModelPlacement {
  const base = { providerId: provider.id, providerName: provider.name, model, kind, trainsOnData: provider.trainsOnData, policyUrl: provider.policyUrl };
  if (provider.region !== 'per-configuration') {
    // The catalogue's location is the provider's own service: an endpoint elsewhere (a proxy, another
    // server) may process data anywhere, whatever the provider's name says.
    const host = provider.defaultBaseUrl && config.endpoint ? hostOf(config.endpoint) : undefined;
    if (host !== undefined && !isKnownHost(provider, host)) {
      return { ...base, region: 'unknown', dataLocation: `endpoint overridden to ${host ?? 'an unreadable URL'}, not ${provider.name}'s own service` };
    }
    return { ...base, region: provider.region, dataLocation: provider.dataLocation };
  }
  if (provider.protocol === 'azure-openai') {
    const region = config.region?.toLowerCase().replaceAll(' ', '') ?? '';
    if (!region) return { ...base, region: 'unknown', dataLocation: 'Azure region not stated' };
    return { ...base, region: azureEuRegions.has(region) ? 'eu' : 'non-eu', dataLocation: `Azure ${region}` };
  }
  const stated = config.statedRegion === 'eu' || config.statedRegion === 'non-eu' ? config.statedRegion : 'unknown';
  return { ...base, region: stated, dataLocation: config.statedDataLocation ?? (stated === 'unknown' ? 'not stated' : stated === 'eu' ? 'EU' : 'outside the EU') };
}

function hostOf(url: string): string | null {
  try {
    return new URL(url).hostname.toLowerCase();
  } catch {
    return null;
  }
}

function isKnownHost(provider: CatalogueEntry, host: string | null): boolean {
  if (!host) return false;
  const known = new Set(knownProviderHosts[provider.id] ?? []);
  const current = provider.defaultBaseUrl ? hostOf(provider.defaultBaseUrl) : null;
  if (current) known.add(current);
  return known.has(host);
}

export class PolicyViolationError extends Error {
  override name = 'PolicyViolationError';
  constructor(
    readonly rule: 'eu_only' | 'no_training',
    readonly placement: ModelPlacement,
    message: string,
  ) {
    super(message);
  }
}

/** Throws a PolicyViolationError naming the switch and the provider's location when `placement` breaks `policy`. */
export function assertModelAllowed(policy: DataPolicy, placement: ModelPlacement): void {
  const what = `${placement.model} from ${placement.providerName}`;
  if (policy.euOnly && placement.region !== 'eu' && placement.region !== 'on-server') {
    const where = placement.region === 'unknown' ? `its data location is not stated (${placement.dataLocation})` : `it processes data in ${placement.dataLocation}`;
    throw new PolicyViolationError('eu_only', placement, `The organisation's "EU data location only" policy refuses ${what}: ${where}. Choose an EU provider or ask an admin to change the policy.`);
  }
  if (policy.noTraining && placement.trainsOnData) {
    throw new PolicyViolationError('no_training', placement, `The organisation's "no reuse for training" policy refuses ${what}: this provider reuses data for training (see ${placement.policyUrl}).`);
  }
}

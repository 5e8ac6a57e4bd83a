import { describe, expect, it } from 'vitest';
import type { CatalogueEntry } from '../llm/catalogue.repo.ts';
import { assertModelAllowed, placementOf, PolicyViolationError, type ModelPlacement } from './data-policy.ts';

const placement = (overrides: Partial<ModelPlacement>): ModelPlacement => ({
  providerId: 'x',
  providerName: 'Provider X',
  model: 'model-x',
  kind: 'chat',
  region: 'eu',
  dataLocation: 'France',
  trainsOnData: false,
  policyUrl: 'https://example.org/policy',
  ...overrides,
});

describe('assertModelAllowed', () => {
  it('allows EU, on-server and non-training models under the default policy', () => {
    expect(() => assertModelAllowed({ euOnly: true, noTraining: true }, placement({}))).not.toThrow();
    expect(() => assertModelAllowed({ euOnly: true, noTraining: true }, placement({ region: 'on-server' }))).not.toThrow();
  });

  it('names the switch and the location of a refused model', () => {
    const refuse = (policy: { euOnly: boolean; noTraining: boolean }, p: ModelPlacement) => {
      try {
        assertModelAllowed(policy, p);
      } catch (error) {
        return error as PolicyViolationError;
      }
      throw new Error('expected a refusal');
    };
    const nonEu = refuse({ euOnly: true, noTraining: false }, placement({ region: 'non-eu', dataLocation: 'United States (non-EU)' }));
    expect(nonEu.rule).toBe('eu_only');
    expect(nonEu.message).toMatch(/"EU data location only" policy refuses model-x from Provider X: it processes data in United States/);
    const unknown = refuse({ euOnly: true, noTraining: false }, placement({ region: 'unknown', dataLocation: 'not stated' }));
    expect(unknown.message).toMatch(/its data location is not stated/);
    const training = refuse({ euOnly: false, noTraining: true }, placement({ trainsOnData: true }));
    expect(training.rule).toBe('no_training');
    expect(training.message).toMatch(/"no reuse for training" policy refuses model-x from Provider X: this provider reuses data for training \(see https:\/\/example.org\/policy\)/);
    expect(() => assertModelAllowed({ euOnly: false, noTraining: false }, placement({ region: 'non-eu', trainsOnData: true }))).not.toThrow();
  });

  it('places Azure by its resource region and a self-hosted server by what its operator states', () => {
    const entry = (id: string, protocol: CatalogueEntry['protocol']) => ({ id, name: id, protocol, region: 'per-configuration', dataLocation: '', trainsOnData: false, policyUrl: '' }) as unknown as CatalogueEntry;
    expect(placementOf(entry('azure-openai', 'azure-openai'), { endpoint: null, region: 'France Central', statedRegion: null, statedDataLocation: null }, 'gpt-4o', 'chat')).toMatchObject({ region: 'eu', dataLocation: 'Azure francecentral' });
    expect(placementOf(entry('azure-openai', 'azure-openai'), { endpoint: null, region: 'eastus2', statedRegion: null, statedDataLocation: null }, 'gpt-4o', 'chat').region).toBe('non-eu');
    expect(placementOf(entry('openai-compatible', 'openai'), { endpoint: null, region: null, statedRegion: null, statedDataLocation: null }, 'm', 'chat').region).toBe('unknown');
    expect(placementOf(entry('openai-compatible', 'openai'), { endpoint: null, region: null, statedRegion: 'eu', statedDataLocation: 'Lyon' }, 'm', 'chat')).toMatchObject({ region: 'eu', dataLocation: 'Lyon' });
  });

  it('an endpoint override of a fixed-location provider makes its placement unknown, unless the host is one of the provider’s own', () => {
    const mistral = { id: 'mistral', name: 'Mistral', protocol: 'openai', region: 'eu', dataLocation: 'EU (France / Sweden)', trainsOnData: false, policyUrl: '', defaultBaseUrl: 'https://api.mistral.ai/v1' } as unknown as CatalogueEntry;
    const at = (endpoint: string | null) => placementOf(mistral, { endpoint, region: null, statedRegion: 'eu', statedDataLocation: 'Paris' }, 'mistral-small-latest', 'chat');
    expect(at(null)).toMatchObject({ region: 'eu', dataLocation: 'EU (France / Sweden)' });
    expect(at('https://api.mistral.ai/v1')).toMatchObject({ region: 'eu' });
    expect(at('https://API.Mistral.ai:443/v1/')).toMatchObject({ region: 'eu' });
    const moved = at('https://my-proxy.example.com/v1');
    expect(moved).toMatchObject({ region: 'unknown', dataLocation: expect.stringMatching(/my-proxy\.example\.com/) });
    expect(() => assertModelAllowed({ euOnly: true, noTraining: true }, moved)).toThrow(PolicyViolationError);
    // An operator who moves the provider's default URL in the catalogue vouches for that host.
    expect(placementOf({ ...mistral, defaultBaseUrl: 'https://mistral.internal.example/v1' }, { endpoint: 'https://mistral.internal.example/v1', region: null, statedRegion: null, statedDataLocation: null }, 'm', 'chat').region).toBe('eu');
    expect(at('https://api.mistral.ai.evil.example/v1').region).toBe('unknown');
  });
});

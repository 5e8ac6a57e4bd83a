/**
 * The providers Savoir knows out of the box, with their compliance metadata as each provider
 * publishes it (see `policyUrl`). Seeded at start-up when missing; operators edit them afterwards
 * (the seed never overwrites an edit, and a retired model stays retired).
 */
export interface SeedModel {
  model: string;
  kind: 'chat' | 'embedding';
  contextLengthTokens: number;
  embeddingDimension?: number;
}

export interface SeedProvider {
  id: string;
  name: string;
  protocol: 'openai' | 'azure-openai' | 'local';
  description: string;
  region: 'eu' | 'non-eu' | 'on-server' | 'per-configuration';
  dataLocation: string;
  trainsOnData: boolean;
  policyUrl: string;
  defaultBaseUrl: string | null;
  acceptsAnyModel: boolean;
  models: SeedModel[];
}

export const catalogueSeed: SeedProvider[] = [
  {
    id: 'scaleway',
    name: 'Scaleway Generative APIs',
    protocol: 'openai',
    description: 'Serverless open-weight models hosted by Scaleway in Paris (OpenAI-compatible API).',
    region: 'eu',
    dataLocation: 'France (Paris, fr-par)',
    trainsOnData: false,
    policyUrl: 'https://www.scaleway.com/en/docs/generative-apis/reference-content/data-privacy/',
    defaultBaseUrl: 'https://api.scaleway.ai/v1',
    acceptsAnyModel: false,
    models: [
      { model: 'mistral-small-3.2-24b-instruct-2506', kind: 'chat', contextLengthTokens: 128_000 },
      { model: 'llama-3.3-70b-instruct', kind: 'chat', contextLengthTokens: 100_000 },
      { model: 'gpt-oss-120b', kind: 'chat', contextLengthTokens: 128_000 },
      { model: 'bge-multilingual-gemma2', kind: 'embedding', contextLengthTokens: 8_192, embeddingDimension: 3_584 },
    ],
  },
  {
    id: 'ovhcloud',
    name: 'OVHcloud AI Endpoints',
    protocol: 'openai',
    description: 'Serverless open-weight models hosted by OVHcloud in France (OpenAI-compatible API).',
    region: 'eu',
    dataLocation: 'France (Gravelines)',
    trainsOnData: false,
    policyUrl: 'https://storage.gra.cloud.ovh.net/v1/AUTH_325716a587c64897acbef9a4a4726e38/contracts/48743bf-AI_Endpoints-ALL-1.1.pdf',
    defaultBaseUrl: 'https://oai.endpoints.kepler.ai.cloud.ovh.net/v1',
    acceptsAnyModel: false,
    models: [
      { model: 'Meta-Llama-3_3-70B-Instruct', kind: 'chat', contextLengthTokens: 131_072 },
      { model: 'Mistral-Small-3.2-24B-Instruct-2506', kind: 'chat', contextLengthTokens: 131_072 },
      { model: 'bge-multilingual-gemma2', kind: 'embedding', contextLengthTokens: 8_192, embeddingDimension: 3_584 },
      { model: 'BGE-M3', kind: 'embedding', contextLengthTokens: 8_192, embeddingDimension: 1_024 },
    ],
  },
  {
    id: 'mistral',
    name: 'Mistral AI (La Plateforme)',
    protocol: 'openai',
    description: "Mistral AI's own API; data processed in the EU.",
    region: 'eu',
    dataLocation: 'EU (France / Sweden)',
    trainsOnData: false,
    policyUrl: 'https://mistral.ai/terms',
    defaultBaseUrl: 'https://api.mistral.ai/v1',
    acceptsAnyModel: false,
    models: [
      { model: 'mistral-small-latest', kind: 'chat', contextLengthTokens: 131_072 },
      { model: 'mistral-medium-latest', kind: 'chat', contextLengthTokens: 131_072 },
      { model: 'mistral-large-latest', kind: 'chat', contextLengthTokens: 131_072 },
      { model: 'mistral-embed', kind: 'embedding', contextLengthTokens: 8_192, embeddingDimension: 1_024 },
    ],
  },
  {
    id: 'azure-openai',
    name: 'Azure OpenAI',
    protocol: 'azure-openai',
    description: "OpenAI models deployed in the organisation's own Azure resource; data stays in the resource's region (choose an EU region such as Sweden Central or France Central).",
    region: 'per-configuration',
    dataLocation: "The Azure resource's region",
    trainsOnData: false,
    policyUrl: 'https://learn.microsoft.com/en-us/legal/cognitive-services/openai/data-privacy',
    defaultBaseUrl: null,
    acceptsAnyModel: false,
    models: [
      { model: 'gpt-4o', kind: 'chat', contextLengthTokens: 128_000 },
      { model: 'gpt-4o-mini', kind: 'chat', contextLengthTokens: 128_000 },
      { model: 'gpt-4.1-mini', kind: 'chat', contextLengthTokens: 1_047_576 },
      { model: 'text-embedding-3-small', kind: 'embedding', contextLengthTokens: 8_191, embeddingDimension: 1_536 },
      { model: 'text-embedding-3-large', kind: 'embedding', contextLengthTokens: 8_191, embeddingDimension: 3_072 },
    ],
  },
  {
    id: 'openai',
    name: 'OpenAI',
    protocol: 'openai',
    description: "OpenAI's own API, processed in the United States.",
    region: 'non-eu',
    dataLocation: 'United States (non-EU)',
    trainsOnData: false,
    policyUrl: 'https://openai.com/enterprise-privacy/',
    defaultBaseUrl: 'https://api.openai.com/v1',
    acceptsAnyModel: false,
    models: [
      { model: 'gpt-4o-mini', kind: 'chat', contextLengthTokens: 128_000 },
      { model: 'gpt-4.1-mini', kind: 'chat', contextLengthTokens: 1_047_576 },
      { model: 'text-embedding-3-small', kind: 'embedding', contextLengthTokens: 8_191, embeddingDimension: 1_536 },
      { model: 'text-embedding-3-large', kind: 'embedding', contextLengthTokens: 8_191, embeddingDimension: 3_072 },
    ],
  },
  {
    id: 'openai-compatible',
    name: 'OpenAI-compatible server',
    protocol: 'openai',
    description: 'A self-hosted server speaking the OpenAI protocol (vLLM, Ollama, TGI, llama.cpp server). Its location is stated in the configuration.',
    region: 'per-configuration',
    dataLocation: 'Stated by whoever runs the server',
    trainsOnData: false,
    policyUrl: 'https://docs.vllm.ai/en/latest/serving/openai_compatible_server.html',
    defaultBaseUrl: null,
    acceptsAnyModel: true,
    models: [
      { model: 'llama3.1:8b', kind: 'chat', contextLengthTokens: 131_072 },
      { model: 'nomic-embed-text', kind: 'embedding', contextLengthTokens: 8_192, embeddingDimension: 768 },
    ],
  },
  {
    id: 'local',
    name: 'Built-in local provider',
    protocol: 'local',
    description: 'Extractive answers composed from the retrieved passages, on this server, with no network and no key.',
    region: 'on-server',
    dataLocation: 'On this server',
    trainsOnData: false,
    policyUrl: 'https://savoir.dev/docs/local-provider',
    defaultBaseUrl: null,
    acceptsAnyModel: false,
    models: [{ model: 'savoir-extractive', kind: 'chat', contextLengthTokens: 32_768 }],
  },
];

/**
 * The hosts each fixed-location provider serves its API from (its documented endpoints). A
 * configuration's endpoint override on another host is not the provider's service: its data
 * location is unknown, so the EU-only policy refuses it. The host of the provider's current
 * `defaultBaseUrl` (which operators may edit) counts as known too.
 */
export const knownProviderHosts: Record<string, string[]> = {
  scaleway: ['api.scaleway.ai'],
  ovhcloud: ['oai.endpoints.kepler.ai.cloud.ovh.net'],
  mistral: ['api.mistral.ai'],
  openai: ['api.openai.com'],
};

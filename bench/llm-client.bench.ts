/**
 * Overhead of Savoir's LLM client layer (retries, timeouts, circuit breaker, event mapping) over a
 * direct OpenAI SDK call, against the same local streaming server: time to first token, p50 and
 * p95, measured in one run, calls interleaved so both see the same machine load.
 *
 *   npx tsx bench/llm-client.bench.ts [iterations]
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import OpenAI from 'openai';
import { LlmClient } from '../src/providers/llm/llm-client.ts';
import type { ModelTarget } from '../src/providers/llm/chat-types.ts';

const iterations = Number(process.argv[2] ?? 400);
const warmup = 40;

const chunk = (content: string | null, finish: string | null = null) =>
  `data: ${JSON.stringify({ id: 'b', object: 'chat.completion.chunk', created: 0, model: 'bench', choices: [{ index: 0, delta: content === null ? {} : { content }, finish_reason: finish }] })}\n\n`;

const server = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write(chunk('Bonjour'));
    res.write(chunk(' le'));
    res.write(chunk(' monde'));
    res.write(chunk(null, 'stop'));
    res.end('data: [DONE]\n\n');
  });
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
const baseURL = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;

const direct = new OpenAI({ apiKey: 'bench', baseURL, maxRetries: 0 });
// The peer listens on 127.0.0.1: allowed explicitly, as an operator would allow a self-hosted server.
const savoir = new LlmClient({ privateEndpointCidrs: ['127.0.0.1/32'] });
const target: ModelTarget = { key: 'bench', label: 'bench', providerId: 'openai-compatible', protocol: 'openai', model: 'bench', baseUrl: baseURL, apiKey: 'sk-bench-local-key' };
const messages = [{ role: 'user' as const, content: 'Bonjour ?' }];

async function directTtftMs(): Promise<number> {
  const started = performance.now();
  let first = 0;
  const stream = await direct.chat.completions.create({ model: 'bench', messages, stream: true });
  for await (const part of stream) {
    if (!first && part.choices[0]?.delta?.content) first = performance.now() - started;
  }
  return first;
}

async function savoirTtftMs(): Promise<number> {
  const started = performance.now();
  let first = 0;
  for await (const event of savoir.streamChat(target, { messages })) {
    if (!first && event.type === 'delta') first = performance.now() - started;
  }
  return first;
}

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
};

for (let i = 0; i < warmup; i++) {
  await directTtftMs();
  await savoirTtftMs();
}
const directTimes: number[] = [];
const savoirTimes: number[] = [];
for (let i = 0; i < iterations; i++) {
  // Alternate which goes first, so neither always benefits from a warm connection.
  if (i % 2 === 0) {
    directTimes.push(await directTtftMs());
    savoirTimes.push(await savoirTtftMs());
  } else {
    savoirTimes.push(await savoirTtftMs());
    directTimes.push(await directTtftMs());
  }
}
server.close();

const row = (name: string, values: number[]) => `${name.padEnd(26)} p50 ${percentile(values, 50).toFixed(3)} ms   p95 ${percentile(values, 95).toFixed(3)} ms`;
console.log(`LLM client time to first token, local SSE server, ${iterations} calls each (after ${warmup} warm-up)`);
console.log(row('direct OpenAI SDK', directTimes));
console.log(row("Savoir's client layer", savoirTimes));
console.log(`ratio Savoir / direct: p50 ${(percentile(savoirTimes, 50) / percentile(directTimes, 50)).toFixed(2)}x   p95 ${(percentile(savoirTimes, 95) / percentile(directTimes, 95)).toFixed(2)}x`);
console.log(`overhead: p50 ${(percentile(savoirTimes, 50) - percentile(directTimes, 50)).toFixed(3)} ms   p95 ${(percentile(savoirTimes, 95) - percentile(directTimes, 95)).toFixed(3)} ms`);
process.exit(0);

import { createReadStream, readFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';

export interface BeirDocument {
  id: string;
  title: string;
  text: string;
}

export type Qrels = Map<string, Map<string, number>>;

/** Reads a BEIR folder: corpus.jsonl, queries.jsonl, qrels/<split>.tsv. */
export async function readCorpus(folder: string): Promise<BeirDocument[]> {
  const documents: BeirDocument[] = [];
  const lines = createInterface({ input: createReadStream(path.join(folder, 'corpus.jsonl')) });
  for await (const line of lines) {
    if (!line.trim()) continue;
    const row = JSON.parse(line) as { _id: string; title?: string; text?: string };
    documents.push({ id: String(row._id), title: row.title ?? '', text: row.text ?? '' });
  }
  return documents;
}

export function readQueries(folder: string): Map<string, string> {
  const queries = new Map<string, string>();
  for (const line of readFileSync(path.join(folder, 'queries.jsonl'), 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const row = JSON.parse(line) as { _id: string; text: string };
    queries.set(String(row._id), row.text);
  }
  return queries;
}

export function readQrels(folder: string, split: string): Qrels {
  const qrels: Qrels = new Map();
  const lines = readFileSync(path.join(folder, 'qrels', `${split}.tsv`), 'utf8').split('\n').slice(1);
  for (const line of lines) {
    const [queryId, docId, score] = line.trim().split('\t');
    if (!queryId || !docId) continue;
    const judged = qrels.get(queryId) ?? new Map<string, number>();
    judged.set(docId, Number(score));
    qrels.set(queryId, judged);
  }
  return qrels;
}

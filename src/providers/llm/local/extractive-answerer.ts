import { answeringModelOf, type ChatEvent, type ChatRequest, type ModelTarget, type Passage } from '../chat-types.ts';
import { detectLanguage, stopWords, type Language } from './language.ts';

export interface ExtractiveAnswer {
  text: string;
  language: Language;
  /** False when no passage matched the question: the text says so plainly. */
  found: boolean;
  /** [n] in the text points to citations[n - 1]. */
  citations: { marker: number; passageId: string; title?: string; pages?: number[] }[];
}

const MAX_SENTENCES = 3;
/** A sentence must share at least this share of the question's weight to be quoted. */
const MIN_COVERAGE = 0.2;

const wording = {
  fr: { intro: "D'après les documents :", nothing: "Je n'ai trouvé aucun passage pertinent dans les documents pour répondre à cette question." },
  en: { intro: 'According to the documents:', nothing: 'I found nothing relevant in the documents to answer this question.' },
};

/**
 * The built-in local provider: no model, no network. It quotes the sentences of the retrieved
 * passages that best match the question (terms weighted by rarity across the sentences), cites
 * them as [1], [2], and frames the answer in the question's language. With nothing relevant, it
 * says so instead of guessing.
 */
export function answerExtractively(question: string, passages: Passage[]): ExtractiveAnswer {
  const language = detectLanguage(question);
  const queryTerms = [...new Set(termsOf(question))];
  const sentences = passages.flatMap((passage, passageIndex) =>
    splitSentences(passage.text, language).map((text, position) => ({ text, passageIndex, position, terms: new Set(termsOf(text)) })),
  );
  if (queryTerms.length === 0 || sentences.length === 0) return nothingFound(language);

  const idf = new Map(queryTerms.map((term) => [term, Math.log(1 + sentences.length / (1 + sentences.filter((s) => s.terms.has(term)).length))]));
  const totalWeight = [...idf.values()].reduce((a, b) => a + b, 0);
  const scored = sentences
    .map((sentence) => {
      const weight = queryTerms.filter((t) => sentence.terms.has(t)).reduce((sum, t) => sum + (idf.get(t) ?? 0), 0);
      return { ...sentence, score: weight / totalWeight };
    })
    .filter((s) => s.score >= MIN_COVERAGE)
    .sort((a, b) => b.score - a.score || a.passageIndex - b.passageIndex || a.position - b.position);
  if (scored.length === 0) return nothingFound(language);

  const best = scored[0]?.score ?? 0;
  const chosen: typeof scored = [];
  for (const sentence of scored) {
    if (chosen.length >= MAX_SENTENCES || sentence.score < best / 2) break;
    if (chosen.some((c) => c.text === sentence.text)) continue;
    chosen.push(sentence);
  }
  chosen.sort((a, b) => a.passageIndex - b.passageIndex || a.position - b.position);

  const citations: ExtractiveAnswer['citations'] = [];
  const parts = chosen.map((sentence) => {
    const passage = passages[sentence.passageIndex] as Passage;
    let citation = citations.find((c) => c.passageId === passage.id);
    if (!citation) {
      citation = { marker: citations.length + 1, passageId: passage.id, ...(passage.title ? { title: passage.title } : {}), ...(passage.pages ? { pages: passage.pages } : {}) };
      citations.push(citation);
    }
    return `${sentence.text.replace(/\s+/g, ' ').trim()} [${citation.marker}]`;
  });
  return { text: `${wording[language].intro} ${parts.join(' ')}`, language, found: true, citations };
}

/** The local provider behind the chat client's streaming interface. */
export async function* streamExtractiveAnswer(target: ModelTarget, request: ChatRequest): AsyncGenerator<ChatEvent> {
  const question = [...request.messages].reverse().find((m) => m.role === 'user')?.content ?? '';
  const answer = answerExtractively(question, request.passages ?? []);
  // Word groups, so the local answer streams like a model's.
  for (const piece of answer.text.match(/\S+\s*/g) ?? []) yield { type: 'delta', text: piece };
  const promptChars = question.length + (request.passages ?? []).reduce((n, p) => n + p.text.length, 0);
  yield {
    type: 'done',
    usage: { promptTokens: Math.ceil(promptChars / 4), completionTokens: Math.ceil(answer.text.length / 4), estimated: true },
    target: answeringModelOf(target),
    usedFallback: false,
    finishReason: 'stop',
  };
}

function nothingFound(language: Language): ExtractiveAnswer {
  return { text: wording[language].nothing, language, found: false, citations: [] };
}

function splitSentences(text: string, language: Language): string[] {
  const segmenter = new Intl.Segmenter(language, { granularity: 'sentence' });
  return [...segmenter.segment(text)].map((s) => s.segment.trim()).filter((s) => s.length > 0);
}

/** Lower-cased, accent-free, stop words out, crudely stemmed (plural s/x, then six letters) for French and English. */
export function termsOf(text: string): string[] {
  return (text.toLowerCase().normalize('NFD').replace(/\p{M}/gu, '').match(/[\p{L}\p{N}]+/gu) ?? [])
    .map((word) => word.replace(/^(l|d|qu|n|s|c|j)$/, ''))
    .filter((word) => word.length > 1 && !stopWords.has(word))
    .map((word) => (word.length > 3 ? word.replace(/[sx]$/, '') : word).slice(0, 6));
}

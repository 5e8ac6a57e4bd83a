import { countTokens } from './analysis/text-analysis.ts';
import type { Block } from './parsers/types.ts';

export interface ChunkOptions {
  /** Upper bound of a chunk, in approximate model tokens. */
  maxTokens: number;
  /** Tokens carried over from the end of the previous chunk of the same section. */
  overlapTokens: number;
}

export const defaultChunkOptions: ChunkOptions = { maxTokens: 512, overlapTokens: 64 };

export interface Chunk {
  ordinal: number;
  text: string;
  headingPath: string[];
  pageStart: number | null;
  pageEnd: number | null;
  tokenCount: number;
}

interface Piece {
  text: string;
  page: number | null;
  tokens: number;
}

/**
 * Groups blocks into chunks that respect structure: a heading always starts a new chunk and
 * becomes part of the heading path of the chunks under it; paragraphs are packed up to the
 * token budget; a paragraph that alone exceeds the budget is split at sentence boundaries; a
 * section split into several chunks repeats its last sentences as overlap.
 */
export function chunkBlocks(blocks: Block[], options: ChunkOptions = defaultChunkOptions): Chunk[] {
  const chunks: Chunk[] = [];
  const headings: { level: number; text: string }[] = [];
  let pieces: Piece[] = [];
  let tokens = 0;

  const emit = (keepOverlap: boolean) => {
    if (pieces.length === 0) return;
    const pages = pieces.map((piece) => piece.page).filter((page): page is number => page !== null);
    const text = pieces.map((piece) => piece.text).join('\n\n');
    chunks.push({
      ordinal: chunks.length,
      text,
      headingPath: headings.map((heading) => heading.text),
      pageStart: pages.length ? Math.min(...pages) : null,
      pageEnd: pages.length ? Math.max(...pages) : null,
      tokenCount: countTokens(text),
    });
    const overlap: Piece[] = [];
    if (keepOverlap && options.overlapTokens > 0) {
      const sentences = pieces.flatMap((piece) => splitSentences(piece.text).map((text) => ({ text, page: piece.page, tokens: countTokens(text) })));
      let kept = 0;
      for (let i = sentences.length - 1; i >= 0; i -= 1) {
        const sentence = sentences[i];
        if (!sentence || kept + sentence.tokens > options.overlapTokens) break;
        overlap.unshift(sentence);
        kept += sentence.tokens;
      }
    }
    pieces = overlap;
    tokens = overlap.reduce((sum, piece) => sum + piece.tokens, 0);
  };

  const add = (piece: Piece) => {
    if (tokens + piece.tokens > options.maxTokens && pieces.length > 0) emit(true);
    pieces.push(piece);
    tokens += piece.tokens;
  };

  for (const block of blocks) {
    if (block.kind === 'heading') {
      emit(false);
      while (headings.length > 0 && (headings.at(-1)?.level ?? 0) >= block.level) headings.pop();
      headings.push({ level: block.level, text: block.text });
      continue;
    }
    const page = block.page ?? null;
    const blockTokens = countTokens(block.text);
    if (blockTokens <= options.maxTokens) {
      add({ text: block.text, page, tokens: blockTokens });
      continue;
    }
    for (const part of splitLong(block.text, options.maxTokens)) add({ text: part, page, tokens: countTokens(part) });
  }
  emit(false);
  return chunks;
}

function splitSentences(text: string): string[] {
  return text.match(/[^.!?\n]+(?:[.!?]+|\n|$)/g)?.map((s) => s.trim()).filter(Boolean) ?? [text];
}

/** Splits an oversized block at sentence boundaries, and a sentence without any at word boundaries. */
function splitLong(text: string, maxTokens: number): string[] {
  const parts: string[] = [];
  let current = '';
  const push = (piece: string) => {
    if (current && countTokens(`${current} ${piece}`) > maxTokens) {
      parts.push(current);
      current = '';
    }
    current = current ? `${current} ${piece}` : piece;
  };
  for (const sentence of splitSentences(text)) {
    if (countTokens(sentence) <= maxTokens) {
      push(sentence);
      continue;
    }
    for (const word of sentence.split(/\s+/)) push(word);
  }
  if (current) parts.push(current);
  return parts;
}

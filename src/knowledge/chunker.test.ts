import { describe, expect, it } from 'vitest';
import { countTokens } from './analysis/text-analysis.ts';
import { chunkBlocks } from './chunker.ts';
import { parseMarkdown } from './parsers/markdown.ts';

describe('chunker', () => {
  it('starts a chunk at each heading and keeps the heading path', () => {
    const { blocks } = parseMarkdown('# Manual\n\nIntro.\n\n## Safety\n\nWear gloves.\n\n### Fire\n\nUse the extinguisher.\n\n## Cleaning\n\nUse water.');
    const chunks = chunkBlocks(blocks, { maxTokens: 100, overlapTokens: 10 });
    expect(chunks.map((c) => [c.headingPath, c.text])).toEqual([
      [['Manual'], 'Intro.'],
      [['Manual', 'Safety'], 'Wear gloves.'],
      [['Manual', 'Safety', 'Fire'], 'Use the extinguisher.'],
      [['Manual', 'Cleaning'], 'Use water.'],
    ]);
  });

  it('packs paragraphs up to the token budget, splits long ones at sentences, and overlaps within a section', () => {
    const sentence = (i: number) => `Sentence number ${i} talks about topic ${i}.`;
    const paragraph = Array.from({ length: 60 }, (_, i) => sentence(i)).join(' ');
    const chunks = chunkBlocks([{ kind: 'paragraph', text: paragraph, page: 3 }, { kind: 'paragraph', text: 'Closing words.', page: 4 }], { maxTokens: 80, overlapTokens: 20 });
    expect(chunks.length).toBeGreaterThan(3);
    for (const chunk of chunks) expect(chunk.tokenCount).toBeLessThanOrEqual(80 + 20);
    // Every sentence is somewhere, and consecutive chunks share their boundary sentence.
    const all = chunks.map((c) => c.text).join(' ');
    for (let i = 0; i < 60; i += 1) expect(all).toContain(sentence(i));
    const lastOfFirst = chunks[0]?.text.split(/(?<=\.)\s+/).at(-1) ?? '';
    const firstOfSecond = chunks[1]?.text.split(/(?<=\.)\s+/)[0] ?? '';
    expect(chunks[1]?.text).toContain(lastOfFirst);
    expect(chunks[0]?.text.endsWith(lastOfFirst) && chunks[0]?.text.includes(firstOfSecond)).toBe(true);
    expect(chunks[0]?.pageStart).toBe(3);
    expect(chunks.at(-1)?.pageEnd).toBe(4);
    expect(chunks.map((c) => c.ordinal)).toEqual(chunks.map((_, i) => i));
    expect(countTokens('')).toBe(0);
  });
});

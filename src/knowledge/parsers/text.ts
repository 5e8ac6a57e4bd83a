import type { Block, ParsedDocument } from './types.ts';

/** Plain text: paragraphs are separated by blank lines; form feeds (from text exports of PDFs) start a new page. */
export function parseText(text: string): ParsedDocument {
  const blocks: Block[] = [];
  const pages = text.split('\f');
  pages.forEach((pageText, index) => {
    for (const paragraph of pageText.split(/\n\s*\n/)) {
      const cleaned = paragraph.replace(/[ \t]+/g, ' ').trim();
      if (cleaned) blocks.push({ kind: 'paragraph', text: cleaned, ...(pages.length > 1 ? { page: index + 1 } : {}) });
    }
  });
  return { blocks, ...(pages.length > 1 ? { pages: pages.length } : {}) };
}

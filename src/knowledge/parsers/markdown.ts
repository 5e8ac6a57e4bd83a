import type { Block, ParsedDocument } from './types.ts';

/**
 * Markdown by lines: ATX and setext headings, fenced code, lists and tables kept as text blocks.
 * Inline markup (emphasis, links) is reduced to its text so it does not pollute the index.
 */
export function parseMarkdown(source: string): ParsedDocument {
  const lines = source.replace(/\r\n?/g, '\n').split('\n');
  const blocks: Block[] = [];
  let buffer: string[] = [];
  let bufferKind: 'paragraph' | 'list' | 'table' = 'paragraph';
  const flush = () => {
    const text = buffer.join('\n').trim();
    if (text) blocks.push({ kind: bufferKind, text: stripInline(text) });
    buffer = [];
    bufferKind = 'paragraph';
  };
  for (let i = 0; i < lines.length; i += 1) {
    const line = lines[i] ?? '';
    const fence = /^\s*(```|~~~)/.exec(line);
    if (fence) {
      flush();
      const code: string[] = [];
      for (i += 1; i < lines.length && !(lines[i] ?? '').trim().startsWith(fence[1] ?? '```'); i += 1) code.push(lines[i] ?? '');
      if (code.join('').trim()) blocks.push({ kind: 'code', text: code.join('\n') });
      continue;
    }
    const heading = /^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$/.exec(line);
    if (heading) {
      flush();
      blocks.push({ kind: 'heading', level: heading[1]?.length ?? 1, text: stripInline(heading[2] ?? '') });
      continue;
    }
    const next = lines[i + 1] ?? '';
    if (line.trim() && buffer.length === 0 && /^\s{0,3}(=+|-+)\s*$/.test(next) && !/^\s*[-*+]\s/.test(line)) {
      blocks.push({ kind: 'heading', level: next.trim().startsWith('=') ? 1 : 2, text: stripInline(line.trim()) });
      i += 1;
      continue;
    }
    if (!line.trim()) {
      flush();
      continue;
    }
    const kind = /^\s*([-*+]|\d+[.)])\s/.test(line) ? 'list' : /^\s*\|/.test(line) ? 'table' : 'paragraph';
    if (buffer.length > 0 && kind !== bufferKind && kind !== 'paragraph') flush();
    if (buffer.length === 0) bufferKind = kind;
    if (kind === 'table' && /^\s*\|?\s*:?-{2,}/.test(line)) continue;
    buffer.push(kind === 'table' ? line.trim().replace(/^\||\|$/g, '').split('|').map((cell) => cell.trim()).join(' | ') : line);
  }
  flush();
  const firstHeading = blocks.find((block) => block.kind === 'heading');
  return { blocks, ...(firstHeading ? { title: firstHeading.text } : {}) };
}

function stripInline(text: string): string {
  return text
    .replace(/!\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/\[([^\]]+)\]\([^)]*\)/g, '$1')
    .replace(/(\*\*|__)(.+?)\1/g, '$2')
    .replace(/`([^`]+)`/g, '$1');
}

import type { Block, ParsedDocument } from './types.ts';

/**
 * A JSON file: each leaf becomes a "path: value" line, grouped by top-level key, so that
 * structured exports (FAQ, catalogues) are searchable by both their labels and values.
 */
export function parseJson(value: unknown): ParsedDocument {
  const blocks: Block[] = [];
  const lines: string[] = [];
  const visit = (node: unknown, path: string) => {
    if (node === null || node === undefined) return;
    if (Array.isArray(node)) node.forEach((item, index) => visit(item, `${path}[${index}]`));
    else if (typeof node === 'object') for (const [key, child] of Object.entries(node)) visit(child, path ? `${path}.${key}` : key);
    else lines.push(path ? `${path}: ${String(node)}` : String(node));
  };
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    for (const [key, child] of Object.entries(value)) {
      visit(child, key);
      if (lines.length) blocks.push({ kind: 'paragraph', text: lines.splice(0).join('\n') });
    }
  } else {
    visit(value, '');
    if (lines.length) blocks.push({ kind: 'paragraph', text: lines.join('\n') });
  }
  return { blocks };
}

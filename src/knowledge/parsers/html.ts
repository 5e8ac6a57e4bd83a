import { parseHTML } from 'linkedom';
import type { Block, ParsedDocument } from './types.ts';

/** Elements that are page furniture, not content: dropped before extraction. */
const NOISE = 'script, style, noscript, template, nav, header, footer, aside, form, iframe, svg, button, [role="navigation"], [role="banner"], [role="contentinfo"], [aria-hidden="true"], .nav, .navbar, .menu, .sidebar, .breadcrumb, .cookie, #cookie-banner';
const BLOCKS = new Set(['P', 'LI', 'PRE', 'BLOCKQUOTE', 'TABLE', 'H1', 'H2', 'H3', 'H4', 'H5', 'H6', 'DD', 'DT', 'FIGCAPTION']);

interface HtmlNode {
  nodeType: number;
  tagName?: string;
  textContent: string | null;
  childNodes: Iterable<HtmlNode>;
  querySelectorAll?(selector: string): Iterable<HtmlNode>;
}

/**
 * The main content of an HTML page: navigation, headers, footers and sidebars removed; the
 * <main> or <article> element preferred when there is one; headings, lists and tables kept.
 */
export function parseHtml(html: string): ParsedDocument {
  const { document } = parseHTML(html.includes('<html') ? html : `<!doctype html><html><body>${html}</body></html>`);
  const title = document.querySelector('title')?.textContent?.trim() || document.querySelector('h1')?.textContent?.trim() || undefined;
  for (const element of [...document.querySelectorAll(NOISE)]) element.remove();
  const root = (document.querySelector('main') ?? document.querySelector('article') ?? document.querySelector('[role="main"]') ?? document.body ?? document.documentElement) as unknown as HtmlNode;
  const blocks: Block[] = [];
  let loose: string[] = [];
  const flushLoose = () => {
    const text = collapse(loose.join(' '));
    if (text) blocks.push({ kind: 'paragraph', text });
    loose = [];
  };
  const walk = (node: HtmlNode) => {
    if (node.nodeType === 3) {
      loose.push(node.textContent ?? '');
      return;
    }
    if (node.nodeType !== 1) return;
    const tag = node.tagName ?? '';
    if (BLOCKS.has(tag)) {
      flushLoose();
      const heading = /^H([1-6])$/.exec(tag);
      if (heading) {
        const text = collapse(node.textContent ?? '');
        if (text) blocks.push({ kind: 'heading', level: Number(heading[1]), text });
      } else if (tag === 'TABLE') {
        const rows = [...(node.querySelectorAll?.('tr') ?? [])].map((row) =>
          [...(row.querySelectorAll?.('th, td') ?? [])].map((cell) => collapse(cell.textContent ?? '')).join(' | '),
        );
        const text = rows.filter(Boolean).join('\n');
        if (text) blocks.push({ kind: 'table', text });
      } else if (tag === 'LI') {
        const text = collapse(node.textContent ?? '');
        if (text) blocks.push({ kind: 'list', text: `- ${text}` });
      } else {
        const text = tag === 'PRE' ? (node.textContent ?? '').trim() : collapse(node.textContent ?? '');
        if (text) blocks.push({ kind: tag === 'PRE' ? 'code' : 'paragraph', text });
      }
      return;
    }
    if (tag === 'BR') loose.push('\n');
    for (const child of [...node.childNodes]) walk(child);
    if (tag === 'DIV' || tag === 'SECTION' || tag === 'ARTICLE') flushLoose();
  };
  walk(root);
  flushLoose();
  return { blocks: mergeLists(blocks), ...(title ? { title } : {}) };
}

function collapse(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/** Consecutive list items become one list block, as a reader sees them. */
function mergeLists(blocks: Block[]): Block[] {
  const merged: Block[] = [];
  for (const block of blocks) {
    const previous = merged.at(-1);
    if (block.kind === 'list' && previous?.kind === 'list') previous.text += `\n${block.text}`;
    else merged.push({ ...block });
  }
  return merged;
}

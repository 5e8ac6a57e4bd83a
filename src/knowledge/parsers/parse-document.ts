import { parseDocx } from './docx.ts';
import { parseHtml } from './html.ts';
import { parseJson } from './json.ts';
import { parseMarkdown } from './markdown.ts';
import { parsePdf } from './pdf.ts';
import { sniffMimeType } from './sniff.ts';
import { parseText } from './text.ts';
import { UnprocessableDocumentError, type ParsedDocument, type SupportedMimeType } from './types.ts';

export interface ParseLimits {
  maxFileBytes: number;
}

/** Sniffs and parses a file; throws UnprocessableDocumentError with a clear reason for bad input. */
export async function parseDocument(bytes: Buffer, limits: ParseLimits): Promise<ParsedDocument & { mimeType: SupportedMimeType }> {
  if (bytes.length > limits.maxFileBytes) throw new UnprocessableDocumentError(`the file is ${bytes.length} bytes, over the limit of ${limits.maxFileBytes} bytes`);
  const sniffed = await sniffMimeType(bytes);
  if ('unsupported' in sniffed) throw new UnprocessableDocumentError(sniffed.unsupported);
  const mimeType = sniffed.mimeType;
  const text = () => bytes.toString('utf8').replace(/^\uFEFF/, '');
  let parsed: ParsedDocument;
  switch (mimeType) {
    case 'application/pdf':
      parsed = await parsePdf(bytes);
      break;
    case 'application/vnd.openxmlformats-officedocument.wordprocessingml.document':
      parsed = await parseDocx(bytes, { maxUncompressedBytes: Math.max(limits.maxFileBytes * 10, 10 * 1024 * 1024), maxEntries: 10_000, maxRatio: 200 });
      break;
    case 'text/html':
      parsed = parseHtml(text());
      break;
    case 'text/markdown':
      parsed = parseMarkdown(text());
      break;
    case 'application/json':
      parsed = parseJson(JSON.parse(text()));
      break;
    default:
      parsed = parseText(text());
  }
  if (!parsed.blocks.some((block) => block.text.trim())) throw new UnprocessableDocumentError('the document contains no text');
  return { ...parsed, mimeType };
}

import mammoth from 'mammoth';
import { parseHtml } from './html.ts';
import { UnprocessableDocumentError, type ParsedDocument } from './types.ts';
import { assertSafeZip, type ZipLimits } from './zip-guard.ts';

/** DOCX through mammoth's semantic HTML (headings from Word styles), after the zip-bomb check. */
export async function parseDocx(bytes: Buffer, zipLimits?: ZipLimits): Promise<ParsedDocument> {
  assertSafeZip(bytes, zipLimits);
  let html: string;
  try {
    html = (await mammoth.convertToHtml({ buffer: bytes })).value;
  } catch (error) {
    throw new UnprocessableDocumentError(`the DOCX file is corrupt or unreadable: ${error instanceof Error ? error.message.slice(0, 200) : String(error)}`);
  }
  const parsed = parseHtml(`<html><body><main>${html}</main></body></html>`);
  const firstHeading = parsed.blocks.find((block) => block.kind === 'heading');
  return { blocks: parsed.blocks, ...(firstHeading ? { title: firstHeading.text } : {}) };
}

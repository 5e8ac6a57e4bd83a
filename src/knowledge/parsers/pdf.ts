import { extractText, getDocumentProxy } from 'unpdf';
import { UnprocessableDocumentError, type Block, type ParsedDocument } from './types.ts';

/** PDF text page by page, so every block (and so every chunk) knows its page number. */
export async function parsePdf(bytes: Buffer): Promise<ParsedDocument> {
  let pdf;
  try {
    // pdf.js detaches the buffer it is given: hand it a copy.
    pdf = await getDocumentProxy(new Uint8Array(bytes), { isEvalSupported: false, stopAtErrors: false });
  } catch (error) {
    throw new UnprocessableDocumentError(describePdfError(error));
  }
  try {
    const { totalPages, text } = await extractText(pdf, { mergePages: false });
    const blocks: Block[] = [];
    text.forEach((pageText, index) => {
      for (const paragraph of pageText.split(/\n\s*\n/)) {
        const cleaned = paragraph.replace(/[ \t]+/g, ' ').replace(/-\n(\p{Ll})/gu, '$1').replace(/\n/g, ' ').trim();
        if (cleaned) blocks.push({ kind: 'paragraph', text: cleaned, page: index + 1 });
      }
    });
    let title: string | undefined;
    try {
      const metadata = await pdf.getMetadata();
      const info = metadata.info as { Title?: unknown } | undefined;
      if (typeof info?.Title === 'string' && info.Title.trim()) title = info.Title.trim();
    } catch {
      // Metadata is optional; a PDF without it is still indexed.
    }
    if (blocks.length === 0) throw new UnprocessableDocumentError('the PDF has no extractable text (scanned images need OCR, which is not available)');
    return { blocks, pages: totalPages, ...(title ? { title } : {}) };
  } catch (error) {
    if (error instanceof UnprocessableDocumentError) throw error;
    throw new UnprocessableDocumentError(describePdfError(error));
  } finally {
    await pdf.destroy().catch(() => undefined);
  }
}

function describePdfError(error: unknown): string {
  const name = (error as { name?: string }).name ?? '';
  const message = error instanceof Error ? error.message : String(error);
  if (name === 'PasswordException' || /password/i.test(message)) return 'the PDF is encrypted (password protected) and cannot be read';
  return `the PDF is corrupt or unreadable: ${message.slice(0, 200)}`;
}

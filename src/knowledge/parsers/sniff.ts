import { fileTypeFromBuffer } from 'file-type';
import type { SupportedMimeType } from './types.ts';

const DOCX = 'application/vnd.openxmlformats-officedocument.wordprocessingml.document';

/**
 * The type of a file from its bytes (magic numbers for binary formats, content heuristics for
 * text), never from its name. Returns the sniffed type, or a description of what it is not.
 */
export async function sniffMimeType(bytes: Buffer): Promise<{ mimeType: SupportedMimeType } | { unsupported: string }> {
  if (bytes.length === 0) return { unsupported: 'the file is empty' };
  const detected = await fileTypeFromBuffer(bytes);
  // Some signatures are two printable bytes ("BM" for BMP): text that happens to start with them is text.
  const strongBinary = detected && ['application/pdf', DOCX, 'application/zip'].includes(detected.mime);
  if (detected && !strongBinary && decodeUtf8(bytes) !== undefined) return sniffText(bytes);
  if (detected) {
    if (detected.mime === 'application/pdf') return { mimeType: 'application/pdf' };
    if (detected.mime === DOCX) return { mimeType: DOCX };
    // A ZIP that file-type could not recognise as DOCX (a bomb usually is one) is checked as DOCX,
    // so that it fails on its sizes or its contents with a precise reason.
    if (detected.mime === 'application/zip' && bytes.includes('word/')) return { mimeType: DOCX };
    if (detected.mime !== 'application/xml') return { unsupported: `unsupported file type ${detected.mime}` };
  }
  return sniffText(bytes);
}

function sniffText(bytes: Buffer): { mimeType: SupportedMimeType } | { unsupported: string } {
  const text = decodeUtf8(bytes);
  if (text === undefined) return { unsupported: 'unsupported binary file (not PDF, DOCX or UTF-8 text)' };
  const head = text.slice(0, 4096).trimStart();
  if (/^[{[]/.test(head)) {
    try {
      JSON.parse(text);
      return { mimeType: 'application/json' };
    } catch {
      // Not JSON after all: treated as text below.
    }
  }
  if (/^(<!doctype html|<html[\s>])/i.test(head) || /<(body|p|div|h1|article|main)[\s>]/i.test(head)) return { mimeType: 'text/html' };
  if (/^#{1,6}\s+\S/m.test(head) || /^\s*[-*]\s+\S[\s\S]*^\s*[-*]\s+\S/m.test(head) || /^\|.*\|\s*$\n^\|?\s*:?-{3,}/m.test(head) || /\[[^\]]+\]\([^)]+\)/.test(head)) {
    return { mimeType: 'text/markdown' };
  }
  return { mimeType: 'text/plain' };
}

function decodeUtf8(bytes: Buffer): string | undefined {
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes).replace(/^\uFEFF/, '');
    // Control characters other than whitespace and form feed mean binary content.
    // eslint-disable-next-line no-control-regex -- control characters are precisely what is looked for
    return /[\x00-\x08\x0e-\x1a\x1c-\x1f]/.test(text.slice(0, 8192)) ? undefined : text;
  } catch {
    return undefined;
  }
}

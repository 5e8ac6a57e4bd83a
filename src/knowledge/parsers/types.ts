/** A structural block of a parsed document; the chunker keeps headings and pages from these. */
export type Block =
  | { kind: 'heading'; level: number; text: string; page?: number }
  | { kind: 'paragraph' | 'list' | 'table' | 'code'; text: string; page?: number };

export interface ParsedDocument {
  title?: string;
  blocks: Block[];
  /** Number of pages for paged formats (PDF). */
  pages?: number;
}

/** Input that cannot be indexed: the document is marked failed with this message, the batch goes on. */
export class UnprocessableDocumentError extends Error {
  override name = 'UnprocessableDocumentError';
}

export const supportedMimeTypes = ['application/pdf', 'application/vnd.openxmlformats-officedocument.wordprocessingml.document', 'text/html', 'text/markdown', 'text/plain', 'application/json'] as const;
export type SupportedMimeType = (typeof supportedMimeTypes)[number];

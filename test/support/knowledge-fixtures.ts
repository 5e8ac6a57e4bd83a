import { Document, HeadingLevel, Packer, Paragraph } from 'docx';
import { PDFDocument, PDFHexString, PDFName, StandardFonts } from 'pdf-lib';

/** A two-page PDF whose pages say which page they are. */
export async function buildPdf(pages: string[][], options: { title?: string } = {}): Promise<Buffer> {
  const pdf = await PDFDocument.create();
  if (options.title) pdf.setTitle(options.title);
  const font = await pdf.embedFont(StandardFonts.Helvetica);
  for (const lines of pages) {
    const page = pdf.addPage([595, 842]);
    lines.forEach((line, i) => page.drawText(line, { x: 50, y: 780 - i * 40, size: 12, font }));
  }
  return Buffer.from(await pdf.save({ useObjectStreams: false }));
}

/** A PDF declaring Standard encryption with a user password: readers must ask for it. */
export async function buildEncryptedPdf(): Promise<Buffer> {
  const pdf = await PDFDocument.create();
  pdf.addPage().drawText('secret');
  const filler = PDFHexString.of('11'.repeat(32));
  const encrypt = pdf.context.obj({ Filter: 'Standard', V: 1, R: 2, O: filler, U: PDFHexString.of('22'.repeat(32)), P: -4 });
  pdf.context.trailerInfo.Encrypt = pdf.context.register(encrypt);
  pdf.context.trailerInfo.ID = pdf.context.obj([PDFHexString.of('33'.repeat(16)), PDFHexString.of('33'.repeat(16))]);
  void PDFName;
  return Buffer.from(await pdf.save({ useObjectStreams: false }));
}

export async function buildDocx(): Promise<Buffer> {
  const document = new Document({
    sections: [
      {
        children: [
          new Paragraph({ text: 'Employee handbook', heading: HeadingLevel.HEADING_1 }),
          new Paragraph({ text: 'Holidays', heading: HeadingLevel.HEADING_2 }),
          new Paragraph('Every employee receives twenty-five days of paid vacation each year.'),
          new Paragraph({ text: 'Expenses', heading: HeadingLevel.HEADING_2 }),
          new Paragraph('Travel expenses are reimbursed within thirty days upon presentation of receipts.'),
        ],
      },
    ],
  });
  return Buffer.from(await Packer.toBuffer(document));
}

/** A multipart/form-data body with several files, as a browser would send it. */
export function multipartBody(files: { filename: string; bytes: Buffer; contentType?: string }[]): { payload: Buffer; headers: Record<string, string> } {
  const boundary = `----savoir${Math.random().toString(16).slice(2)}`;
  const parts: Buffer[] = [];
  for (const file of files) {
    parts.push(
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${file.filename}"\r\nContent-Type: ${file.contentType ?? 'application/octet-stream'}\r\n\r\n`),
      file.bytes,
      Buffer.from('\r\n'),
    );
  }
  parts.push(Buffer.from(`--${boundary}--\r\n`));
  return { payload: Buffer.concat(parts), headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } };
}

import { inflateRawSync } from 'node:zlib';
import { UnprocessableDocumentError } from './types.ts';

export interface ZipLimits {
  maxUncompressedBytes: number;
  maxEntries: number;
  /** Highest compression ratio accepted for an entry above 1 MiB (zip bombs reach thousands). */
  maxRatio: number;
}

export const defaultZipLimits: ZipLimits = { maxUncompressedBytes: 100 * 1024 * 1024, maxEntries: 10_000, maxRatio: 200 };

/**
 * Checks a ZIP container (DOCX) before any library inflates it: the sizes declared in the central
 * directory must stay within limits, and each entry is then inflated with an output cap equal to
 * its declared size, so an archive that lies about its sizes cannot exhaust memory either.
 */
export function assertSafeZip(bytes: Buffer, limits: ZipLimits = defaultZipLimits): void {
  const eocd = findEndOfCentralDirectory(bytes);
  if (eocd < 0) throw new UnprocessableDocumentError('the file is not a valid ZIP/DOCX archive (no central directory)');
  const entries = bytes.readUInt16LE(eocd + 10);
  let offset = bytes.readUInt32LE(eocd + 16);
  if (entries > limits.maxEntries) throw new UnprocessableDocumentError(`the archive has ${entries} entries (limit ${limits.maxEntries})`);
  let total = 0;
  for (let i = 0; i < entries; i += 1) {
    if (offset + 46 > bytes.length || bytes.readUInt32LE(offset) !== 0x02014b50) throw new UnprocessableDocumentError('the ZIP central directory is corrupt');
    const method = bytes.readUInt16LE(offset + 10);
    const compressed = bytes.readUInt32LE(offset + 20);
    const uncompressed = bytes.readUInt32LE(offset + 24);
    const nameLength = bytes.readUInt16LE(offset + 28);
    const extraLength = bytes.readUInt16LE(offset + 30);
    const commentLength = bytes.readUInt16LE(offset + 32);
    const localHeader = bytes.readUInt32LE(offset + 42);
    if (uncompressed === 0xffffffff || compressed === 0xffffffff) throw new UnprocessableDocumentError('the archive uses ZIP64 sizes, refused as a possible zip bomb');
    total += uncompressed;
    if (total > limits.maxUncompressedBytes) {
      throw new UnprocessableDocumentError(`the archive would expand to more than ${limits.maxUncompressedBytes} bytes (possible zip bomb)`);
    }
    if (uncompressed > 1024 * 1024 && uncompressed / Math.max(1, compressed) > limits.maxRatio) {
      throw new UnprocessableDocumentError(`an archive entry has a compression ratio of ${Math.round(uncompressed / Math.max(1, compressed))}:1 (possible zip bomb)`);
    }
    if (method === 8) verifyDeclaredSize(bytes, localHeader, compressed, uncompressed);
    offset += 46 + nameLength + extraLength + commentLength;
  }
}

function verifyDeclaredSize(bytes: Buffer, localHeader: number, compressed: number, uncompressed: number): void {
  if (localHeader + 30 > bytes.length || bytes.readUInt32LE(localHeader) !== 0x04034b50) throw new UnprocessableDocumentError('a ZIP entry header is corrupt');
  const start = localHeader + 30 + bytes.readUInt16LE(localHeader + 26) + bytes.readUInt16LE(localHeader + 28);
  try {
    inflateRawSync(bytes.subarray(start, start + compressed), { maxOutputLength: Math.max(1, uncompressed) });
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'ERR_BUFFER_TOO_LARGE') throw new UnprocessableDocumentError('an archive entry expands beyond its declared size (zip bomb)');
    throw new UnprocessableDocumentError('an archive entry is corrupt and cannot be decompressed');
  }
}

function findEndOfCentralDirectory(bytes: Buffer): number {
  const stop = Math.max(0, bytes.length - 65_557);
  for (let i = bytes.length - 22; i >= stop; i -= 1) if (bytes.readUInt32LE(i) === 0x06054b50) return i;
  return -1;
}

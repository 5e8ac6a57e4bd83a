import { describe, expect, it } from 'vitest';
import { sniffMimeType } from './sniff.ts';

describe('type sniffing from bytes', () => {
  it('tells text formats apart by content, not by name', async () => {
    expect(await sniffMimeType(Buffer.from('{"a": 1}'))).toEqual({ mimeType: 'application/json' });
    expect(await sniffMimeType(Buffer.from('<!doctype html><p>x</p>'))).toEqual({ mimeType: 'text/html' });
    expect(await sniffMimeType(Buffer.from('# Title\n\nBody'))).toEqual({ mimeType: 'text/markdown' });
    expect(await sniffMimeType(Buffer.from('Just a sentence.'))).toEqual({ mimeType: 'text/plain' });
  });

  it('text that starts with a weak binary signature ("BM" of BMP) stays text', async () => {
    expect(await sniffMimeType(Buffer.from('BMI and obesity in adolescents were measured.'))).toEqual({ mimeType: 'text/plain' });
  });

  it('refuses empty and binary files with a reason', async () => {
    expect(await sniffMimeType(Buffer.alloc(0))).toEqual({ unsupported: 'the file is empty' });
    expect(await sniffMimeType(Buffer.from([0x00, 0x01, 0x02, 0xff, 0xfe, 0x00]))).toMatchObject({ unsupported: expect.stringMatching(/binary/) });
  });
});

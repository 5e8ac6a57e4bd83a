import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { inspectLocalModelFolder, loadLocalOnnxEmbeddings, LocalModelError } from './local-onnx-embeddings.ts';

describe('local ONNX embedding model loading', () => {
  it('says clearly that the folder is missing and that nothing will be downloaded', async () => {
    const missing = path.join(tmpdir(), 'savoir-no-such-model-folder');
    await expect(loadLocalOnnxEmbeddings(missing)).rejects.toThrow(LocalModelError);
    await expect(loadLocalOnnxEmbeddings(missing)).rejects.toThrow(/does not exist\. Savoir downloads no model: copy an ONNX export/);
  });

  it('names the files an incomplete folder lacks, and reads the dimension from a complete one', () => {
    const folder = mkdtempSync(path.join(tmpdir(), 'savoir-model-'));
    writeFileSync(path.join(folder, 'config.json'), JSON.stringify({ hidden_size: 384 }));
    expect(() => inspectLocalModelFolder(folder)).toThrow(/lacks tokenizer\.json, onnx\/model\.onnx/);
    writeFileSync(path.join(folder, 'tokenizer.json'), '{}');
    mkdirSync(path.join(folder, 'onnx'));
    writeFileSync(path.join(folder, 'onnx', 'model_quantized.onnx'), '');
    expect(inspectLocalModelFolder(folder)).toEqual({ dimension: 384, onnxFile: 'model_quantized.onnx' });
  });
});

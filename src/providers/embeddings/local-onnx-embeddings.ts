import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { EmbeddingProvider } from './embedding-provider.ts';

export class LocalModelError extends Error {
  override name = 'LocalModelError';
}

/**
 * What a folder must hold: a Hugging Face model exported to ONNX (as `optimum-cli export onnx`
 * writes it, or a Transformers.js-ready repository copied by the operator).
 */
export function inspectLocalModelFolder(folder: string): { dimension: number; onnxFile: string } {
  const resolved = path.resolve(folder);
  if (!existsSync(resolved) || !statSync(resolved).isDirectory()) {
    throw new LocalModelError(
      `The local embedding model folder ${resolved} does not exist. Savoir downloads no model: copy an ONNX export of an embedding model (config.json, tokenizer.json, onnx/model.onnx) into it, or leave the setting empty to use lexical retrieval.`,
    );
  }
  const missing = ['config.json', 'tokenizer.json'].filter((file) => !existsSync(path.join(resolved, file)));
  const onnxDir = path.join(resolved, 'onnx');
  const onnxFiles = existsSync(onnxDir) ? readdirSync(onnxDir).filter((f) => f.endsWith('.onnx')) : [];
  if (onnxFiles.length === 0) missing.push('onnx/model.onnx');
  if (missing.length > 0) throw new LocalModelError(`The local embedding model folder ${resolved} lacks ${missing.join(', ')}.`);
  const config = JSON.parse(readFileSync(path.join(resolved, 'config.json'), 'utf8')) as { hidden_size?: number; dim?: number };
  const dimension = config.hidden_size ?? config.dim;
  if (!dimension) throw new LocalModelError(`${path.join(resolved, 'config.json')} gives no hidden_size: cannot tell the embedding dimension.`);
  return { dimension, onnxFile: onnxFiles.includes('model.onnx') ? 'model.onnx' : (onnxFiles[0] as string) };
}

/**
 * An embedding model run on this server with ONNX Runtime (one intra-op thread: the server's
 * cores serve requests too). Remote loading is off: nothing is fetched from a model hub.
 */
export async function loadLocalOnnxEmbeddings(folder: string): Promise<EmbeddingProvider> {
  const { dimension, onnxFile } = inspectLocalModelFolder(folder);
  const resolved = path.resolve(folder);
  const transformers = await import('@huggingface/transformers');
  transformers.env.allowRemoteModels = false;
  transformers.env.allowLocalModels = true;
  transformers.env.localModelPath = path.dirname(resolved);
  const extractor = await transformers.pipeline('feature-extraction', path.basename(resolved), {
    local_files_only: true,
    model_file_name: onnxFile.replace(/\.onnx$/, ''),
    dtype: 'fp32',
    session_options: { intraOpNumThreads: 1, interOpNumThreads: 1 },
  });
  return {
    modelKey: `local-onnx:${path.basename(resolved)}:${dimension}`,
    dimension,
    embed: async (texts) => {
      if (texts.length === 0) return [];
      const output = await extractor(texts, { pooling: 'mean', normalize: true });
      return output.tolist() as number[][];
    },
  };
}

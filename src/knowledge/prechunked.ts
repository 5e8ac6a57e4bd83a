import { z } from 'zod';

/** The push format for clients who chunk their documents themselves. */
export const PRECHUNKED_FORMAT = 'savoir.chunks.v1';

export const prechunkedChunkSchema = z.object({
  text: z.string().min(1).max(20_000),
  headingPath: z.array(z.string().max(500)).max(10).optional(),
  pageStart: z.number().int().min(1).optional(),
  pageEnd: z.number().int().min(1).optional(),
});

export const prechunkedSchema = z.object({ chunks: z.array(prechunkedChunkSchema).min(1).max(10_000) });

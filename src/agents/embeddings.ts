// Text embeddings for knowledge-base chunks and conversation recall: the configured provider's
// embedding model when there is one, otherwise the built-in offline embedder. Both give vectors of
// EMBEDDING_DIMENSIONS, the size of the vector columns.
import { createOpenAI } from '@ai-sdk/openai';
import { embedMany } from 'ai';
import { config } from '../config.js';
import { AppError } from '../errors.js';
import { createOfflineEmbedder } from '../kb/offline-embedder.js';

export interface Embedder {
  modelId: string;
  dimensions: number;
  embed(texts: string[], signal?: AbortSignal): Promise<number[][]>;
}

let cached: { key: string; value: Embedder } | undefined;

export function embedder(): Embedder {
  const c = config();
  const key = `${c.OPENAI_BASE_URL}|${c.OPENAI_API_KEY}|${c.EMBEDDING_MODEL}|${c.EMBEDDING_DIMENSIONS}`;
  if (cached?.key === key) return cached.value;
  const dimensions = c.EMBEDDING_DIMENSIONS;
  let value: Embedder;
  if ((c.OPENAI_BASE_URL || c.OPENAI_API_KEY) && c.EMBEDDING_MODEL !== 'offline') {
    const provider = createOpenAI({ baseURL: c.OPENAI_BASE_URL, apiKey: c.OPENAI_API_KEY ?? 'not-needed' });
    const modelId = c.EMBEDDING_MODEL ?? 'text-embedding-3-small';
    const model = provider.embedding(modelId);
    value = {
      modelId,
      dimensions,
      async embed(texts, signal) {
        if (texts.length === 0) return [];
        const { embeddings } = await embedMany({
          model,
          values: texts,
          abortSignal: signal,
          maxParallelCalls: 2,
          providerOptions: { openai: { dimensions } },
        });
        for (const e of embeddings)
          if (e.length !== dimensions)
            throw new AppError('embedding_dimension_mismatch', `The embedding model returned ${e.length} dimensions; EMBEDDING_DIMENSIONS is ${dimensions}.`, 500);
        return embeddings;
      },
    };
  } else {
    const offline = createOfflineEmbedder(dimensions);
    value = { modelId: offline.modelId, dimensions, embed: async (texts) => offline.embed(texts) };
  }
  cached = { key, value };
  return value;
}

/** pgvector's text form of a vector, for raw SQL parameters. */
export const toVectorLiteral = (v: number[]) => `[${v.join(',')}]`;

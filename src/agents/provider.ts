// Which model answers: OPENAI_BASE_URL → any OpenAI-compatible server through Chat Completions
// (Ollama, vLLM, llama.cpp, LM Studio); OPENAI_API_KEY alone → OpenAI (Responses API); neither → the
// built-in offline model (not a language model; see offline-model.ts).
import { createOpenAI } from '@ai-sdk/openai';
import type { LanguageModel } from 'ai';
import { config } from '../config.js';
import { allTools } from '../tools/index.js';
import { createOfflineModel } from './offline-model.js';

export interface ChatModel {
  model: LanguageModel;
  /** Recorded in interactions and usage rows. */
  modelId: string;
  offline: boolean;
}

let cached: { key: string; value: ChatModel } | undefined;
let override: ChatModel | undefined;

/** Tests: answer every turn with `model` (e.g. the AI SDK's MockLanguageModelV3); undefined restores config. */
export function setChatModelOverride(model: Exclude<LanguageModel, string> | undefined): void {
  override = model ? { model, modelId: model.modelId, offline: false } : undefined;
}

export function chatModel(): ChatModel {
  if (override) return override;
  const c = config();
  const key = `${c.OPENAI_BASE_URL}|${c.OPENAI_API_KEY}|${c.CHAT_MODEL}|${c.OFFLINE_MODEL_DELAY_MS}`;
  if (cached?.key === key) return cached.value;
  let value: ChatModel;
  if (c.OPENAI_BASE_URL) {
    const provider = createOpenAI({ baseURL: c.OPENAI_BASE_URL, apiKey: c.OPENAI_API_KEY ?? 'not-needed' });
    const id = c.CHAT_MODEL ?? 'gpt-4o-mini';
    value = { model: provider.chat(id), modelId: id, offline: false };
  } else if (c.OPENAI_API_KEY) {
    const provider = createOpenAI({ apiKey: c.OPENAI_API_KEY });
    const id = c.CHAT_MODEL ?? 'gpt-4o-mini';
    value = { model: provider(id), modelId: id, offline: false };
  } else {
    value = { model: createOfflineModel({ tools: allTools, delayMs: c.OFFLINE_MODEL_DELAY_MS }), modelId: 'offline', offline: true };
  }
  cached = { key, value };
  return value;
}

// Registry zod schemas → the Standard Schema objects the MCP SDK lists and validates.
// Two reasons not to hand the zod schemas to the SDK as they are: zod refuses to describe some output
// types in JSON Schema (a `z.coerce.date()` updatedAt), which would break tools/list; and we validate
// arguments ourselves in the call wrapper, so a bad argument becomes an `invalid_arguments` isError
// result metered like every other outcome, with the same wording the chat path uses. The JSON Schema of
// each tool is computed once per definition and reused by every request.
import type { StandardSchemaWithJSON } from '@modelcontextprotocol/server';
import { z } from 'zod';

type JsonObject = Record<string, unknown>;

function toJsonSchema(schema: z.ZodType, io: 'input' | 'output'): JsonObject {
  const json = z.toJSONSchema(schema, {
    target: 'draft-2020-12',
    io,
    unrepresentable: 'any',
    override: (ctx) => {
      // Dates travel as ISO strings (JSON.stringify of a Date).
      const def = (ctx.zodSchema as { _zod?: { def?: { type?: string } } })._zod?.def;
      if (def?.type === 'date') Object.assign(ctx.jsonSchema, { type: 'string', format: 'date-time' });
    },
  }) as JsonObject;
  delete json.$schema;
  return json.type === undefined ? { type: 'object', ...json } : json;
}

/** A schema the SDK can list (JSON Schema) whose validation lets every value through: we parse later. */
function listedSchema(json: JsonObject): StandardSchemaWithJSON {
  return {
    '~standard': {
      version: 1,
      vendor: 'flowspark',
      validate: (value: unknown) => ({ value }),
      jsonSchema: { input: () => json, output: () => json },
    },
  } as unknown as StandardSchemaWithJSON;
}

const cache = new WeakMap<z.ZodType, { input: StandardSchemaWithJSON; output: StandardSchemaWithJSON }>();

export function mcpSchemas(schema: z.ZodType): { input: StandardSchemaWithJSON; output: StandardSchemaWithJSON } {
  let hit = cache.get(schema);
  if (!hit) {
    hit = { input: listedSchema(toJsonSchema(schema, 'input')), output: listedSchema(toJsonSchema(schema, 'output')) };
    cache.set(schema, hit);
  }
  return hit;
}

/** "key: Too small…; value: Required" — one line naming each bad field. */
export function describeIssues(error: z.ZodError): string {
  return error.issues.map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message)).join('; ');
}

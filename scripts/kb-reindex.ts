// npm run kb:reindex [-- --batch-size=128]: re-embed every knowledge-base chunk that the configured embedder
// did not make (after EMBEDDING_MODEL or EMBEDDING_DIMENSIONS changed, or a provider was configured), and
// if the dimension changed, alter kb_chunk.embedding and rebuild its HNSW index. Safe to interrupt (Ctrl-C
// stops after the current batch) and to run again: it resumes. Deploy the new configuration to the servers
// and workers first, so they write new chunks with the new model. With the embedded engine, stop the server
// first: only one process can open its data directory.
import { QueryTypes } from 'sequelize';
import { loadConfigOrExit, setConfig } from '../src/config.js';
import { openDatabase } from '../src/db/index.js';
import { reindexKnowledgeBase } from '../src/kb/reindex.js';
import { log } from '../src/log.js';

const cfg = loadConfigOrExit();
setConfig(cfg);
log.level = cfg.LOG_LEVEL === 'info' ? 'warn' : cfg.LOG_LEVEL;
const batchSize = Number(process.argv.find((a) => a.startsWith('--batch-size='))?.split('=')[1] ?? 128);
if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 2048) {
  console.error('--batch-size must be an integer from 1 to 2048.');
  process.exit(1);
}

const database = await openDatabase(cfg);
const stop = new AbortController();
process.once('SIGINT', () => {
  console.log('\nstopping after the current batch (run again to resume)…');
  stop.abort();
});
try {
  let lastPrint = 0;
  const result = await reindexKnowledgeBase({
    batchSize,
    signal: stop.signal,
    onProgress: ({ done, total }) => {
      if (Date.now() - lastPrint > 1000 || done === total) {
        lastPrint = Date.now();
        process.stdout.write(`\rre-embedded ${done}/${total} chunks`);
      }
    },
  });
  if (result.reembedded) process.stdout.write('\n');
  console.log(
    `model ${result.model} (${result.dimensions} dimensions)` +
      (result.changedDimensionsFrom ? `, column changed from ${result.changedDimensionsFrom}` : '') +
      `; re-embedded ${result.reembedded} chunks in ${result.seconds.toFixed(1)} s` +
      (result.indexRebuilt ? '; HNSW index rebuilt' : '') +
      (result.remaining ? `; ${result.remaining} chunks left: run again to finish` : ''),
  );
  // Conversation recall (agents_interaction.embedding) uses the same dimension; it is not re-embedded here.
  const [recall] = await database.sequelize.query<{ dims: number }>(
    `SELECT atttypmod AS dims FROM pg_attribute WHERE attrelid = 'agents_interaction'::regclass AND attname = 'embedding' AND NOT attisdropped`,
    { type: QueryTypes.SELECT },
  );
  if (recall && recall.dims > 0 && recall.dims !== result.dimensions)
    console.warn(`warning: agents_interaction.embedding is still vector(${recall.dims}); conversation recall needs the same change.`);
  process.exitCode = result.remaining ? 2 : 0;
} finally {
  await database.close();
}

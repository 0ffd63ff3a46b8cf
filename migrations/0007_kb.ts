// Knowledge-base ingestion as a durable queue on kb_document itself (src/kb/queue.ts):
//  - attempts: how many times a worker has claimed the document (a poison file gives up after N);
//  - lease_token / lease_expires_at: who holds the claim and until when. A worker that dies mid-document
//    stops renewing its lease, and once it expires another worker claims the row again. Every write a worker
//    makes is fenced on its token, so a worker that lost its lease cannot overwrite the new holder's work.
//    A transient failure leaves the row in 'processing' with no token and lease_expires_at = when to retry.
//  - idx_kb_doc_queue: the claim query scans only queued and in-flight rows, oldest first.
//  - kb_chunk.embedding_model: which model made each vector, so `npm run kb:reindex` can resume where it
//    stopped and retrieval never compares vectors of two different models.
//  - kb_chunk rows stay whole: pgvector stores vectors EXTERNAL (out of line) by default, and a chunk row
//    (a 384-d vector is 1.5 KB, plus text and tsvector) passes the 2 KB toast threshold, so every distance
//    computed on the heap — an exact scan, the HNSW result's re-check — and every full-text rank paid a TOAST
//    lookup. MAIN keeps the vector inline unless the row cannot fit a page; toast_tuple_target = 8160 keeps
//    the text and tsvector inline too up to a full page. Measured in bench/kb.ts (exact scan of a 1,000-chunk
//    tenant several times faster). Existing rows keep their layout until rewritten.
import type { Migration } from '../src/db/migrate.js';

export const up: Migration = async ({ context }) => {
  await context.query(String.raw`
ALTER TABLE kb_document ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE kb_document ADD COLUMN lease_token UUID;
ALTER TABLE kb_document ADD COLUMN lease_expires_at TIMESTAMP;
CREATE INDEX idx_kb_doc_queue ON kb_document(created_at) WHERE status IN ('uploading', 'processing');

ALTER TABLE kb_chunk ADD COLUMN embedding_model VARCHAR(100);
ALTER TABLE kb_chunk ALTER COLUMN embedding SET STORAGE MAIN;
ALTER TABLE kb_chunk SET (toast_tuple_target = 8160);
UPDATE kb_chunk c SET embedding_model = d.embedding_model
  FROM kb_document d WHERE d.id = c.document_id AND c.embedding IS NOT NULL;
`);
};

export const down: Migration = async ({ context }) => {
  await context.query(String.raw`
ALTER TABLE kb_chunk RESET (toast_tuple_target);
ALTER TABLE kb_chunk ALTER COLUMN embedding SET STORAGE EXTERNAL;
ALTER TABLE kb_chunk DROP COLUMN embedding_model;
DROP INDEX idx_kb_doc_queue;
ALTER TABLE kb_document DROP COLUMN lease_expires_at;
ALTER TABLE kb_document DROP COLUMN lease_token;
ALTER TABLE kb_document DROP COLUMN attempts;
`);
};

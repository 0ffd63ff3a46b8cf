// What leaves the server about documents, templates and versions: whitelisted fields only (no storage
// keys, no other tenant's anything). Download links are absolute, from PUBLIC_URL, so an agent can hand
// them to a user as they are.
import { config } from '../config.js';
import type { Document, DocumentTemplate, DocumentVersion } from '../db/models/index.js';

export const downloadUrl = (documentId: string, versionNumber?: number) =>
  `${config().publicUrl}/api/documents/${documentId}${versionNumber ? `/versions/${versionNumber}` : ''}/download`;

export function presentDocument(doc: Document) {
  const ready = doc.status === 'completed' && !!doc.fileUrl;
  return {
    id: doc.id,
    title: doc.title,
    description: doc.description,
    format: doc.format,
    status: doc.status ?? 'pending',
    visibility: doc.visibility ?? 'private',
    templateId: doc.templateId,
    createdById: doc.createdById,
    fileSizeBytes: Number(doc.fileSizeBytes ?? 0),
    generationTimeSeconds: doc.generationTimeSeconds,
    tokensUsed: doc.tokensUsed ?? 0,
    modelUsed: doc.modelUsed,
    errorMessage: doc.errorMessage,
    downloadUrl: ready ? downloadUrl(doc.id) : null,
    createdAt: doc.createdAt,
    updatedAt: doc.updatedAt,
  };
}

export type PresentedDocument = ReturnType<typeof presentDocument>;

export function presentTemplate(t: DocumentTemplate) {
  return {
    id: t.id,
    name: t.name,
    description: t.description,
    type: t.type,
    variables: (Array.isArray(t.variables) ? t.variables : []) as unknown[],
    isPublic: !!t.isPublic,
    usageCount: t.usageCount ?? 0,
    createdById: t.createdById,
    createdAt: t.createdAt,
    updatedAt: t.updatedAt,
  };
}

export type PresentedTemplate = ReturnType<typeof presentTemplate>;

export function presentVersion(v: DocumentVersion, sizeBytes: number) {
  return {
    versionNumber: v.versionNumber,
    fileSizeBytes: sizeBytes,
    createdById: v.createdById,
    createdAt: v.createdAt,
    downloadUrl: downloadUrl(v.documentId, v.versionNumber),
  };
}

// Document templates: upload (type from the file, variables found by inspecting it, file stored under
// <tenant>/templates/<id>.<ext>), list, get, delete. A template that fails inspection (damaged, encrypted,
// a zip bomb, not what its name says) is refused with the library's stable code and nothing is stored.
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import type { Transaction } from 'sequelize';
import { Op, type WhereOptions } from 'sequelize';
import { auditAs } from '../analytics/audit.js';
import type { AuthContext } from '../auth/context.js';
import { authorize, policies } from '../auth/policies.js';
import { changeStorageUsage } from '../billing/quotas.js';
import { config } from '../config.js';
import { db } from '../db/index.js';
import { DocumentTemplate } from '../db/models/index.js';
import { AppError, badRequest } from '../errors.js';
import { log } from '../log.js';
import { storage } from '../storage/index.js';
import { getVisibleTemplate, isTenantAdmin, templateNotFound, visibleTemplatesWhere, type Caller } from './access.js';
import { templateTypes, type TemplateType } from './formats.js';
import { render } from './render-pool.js';

export const templateExtensions: Record<TemplateType, string> = { word: 'docx', pdf: 'pdf', excel: 'xlsx' };

const MIME_TYPES: Record<string, TemplateType> = {
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document': 'word',
  'application/pdf': 'pdf',
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': 'excel',
};

const unsupportedFile = () =>
  new AppError('unsupported_file_type', 'Templates can be Word (.docx), fillable PDF (.pdf) or Excel (.xlsx) files.', 415);

/**
 * The template type of an upload: from its extension, else its declared MIME type, else its first bytes.
 * The file is not trusted to be what its name says: inspection opens it as that type and refuses it if not.
 */
export function detectTemplateType(fileName: string, mimeType: string | undefined, data: Buffer): TemplateType {
  const ext = path.extname(fileName).slice(1).toLowerCase();
  if (ext) {
    const byExt = (Object.keys(templateExtensions) as TemplateType[]).find((t) => templateExtensions[t] === ext);
    if (!byExt) throw unsupportedFile();
    return byExt;
  }
  const byMime = mimeType ? MIME_TYPES[mimeType.split(';')[0]!.trim().toLowerCase()] : undefined;
  if (byMime) return byMime;
  const head = data.subarray(0, 1024);
  if (head.includes('%PDF-')) return 'pdf';
  if (data.subarray(0, 2).toString('latin1') === 'PK') {
    if (data.includes('word/document.xml')) return 'word';
    if (data.includes('xl/workbook.xml')) return 'excel';
  }
  throw unsupportedFile();
}

export interface UploadTemplateInput {
  fileName: string;
  mimeType?: string;
  data: Buffer;
  name?: string;
  description?: string;
  isPublic?: boolean;
  /** Optional: checked against the file's own type. */
  type?: TemplateType;
}

export async function uploadTemplate(caller: Caller, input: UploadTemplateInput): Promise<DocumentTemplate> {
  authorize(policies.write(caller as AuthContext));
  if (input.data.length === 0) throw badRequest('empty_file', 'The file is empty.');
  const max = config().MAX_UPLOAD_BYTES;
  if (input.data.length > max) throw new AppError('file_too_large', `The file is larger than the ${formatBytes(max)} upload limit.`, 413);
  const type = detectTemplateType(input.fileName, input.mimeType, input.data);
  if (input.type && input.type !== type)
    throw badRequest('template_type_mismatch', `The file is a ${type} template, not ${input.type}.`);
  const { variables } = await render({ kind: 'inspect', type, file: input.data }); // on a render thread (./render-pool.ts)

  const id = randomUUID();
  const key = `${caller.tenantId}/templates/${id}.${templateExtensions[type]}`;
  const name = (input.name?.trim() || path.basename(input.fileName, path.extname(input.fileName)) || 'Template').slice(0, 255);
  await storage().put(key, input.data);
  try {
    return await db().transaction(async (transaction) => {
      await changeStorageUsage(caller.tenantId, input.data.length, transaction);
      const template = await DocumentTemplate.create(
        {
          id,
          tenantId: caller.tenantId,
          createdById: caller.userId,
          name,
          description: input.description?.trim() || null,
          type,
          fileUrl: key,
          variables,
          isBranded: false,
          isPublic: input.isPublic ?? false,
          usageCount: 0,
        },
        { transaction },
      );
      await auditAs(
        caller as AuthContext,
        'document_template.uploaded',
        { type: 'document_template', id, details: { name, type, sizeBytes: input.data.length, variables: variables.length, isPublic: template.isPublic } },
        transaction,
      );
      return template;
    });
  } catch (err) {
    await storage().delete(key).catch((e: unknown) => log.warn({ err: e, key }, 'could not remove the file of a refused template'));
    throw err;
  }
}

export interface ListTemplatesOptions {
  limit: number;
  offset: number;
  type?: TemplateType;
}

export async function listTemplates(caller: Caller, opts: ListTemplatesOptions): Promise<{ templates: DocumentTemplate[]; total: number }> {
  authorize(policies.read(caller as AuthContext));
  const filters: WhereOptions[] = [visibleTemplatesWhere(caller)];
  if (opts.type) filters.push({ type: opts.type });
  const { rows, count } = await DocumentTemplate.findAndCountAll({
    where: { [Op.and]: filters },
    order: [['name', 'ASC'], ['id', 'ASC']],
    limit: opts.limit,
    offset: opts.offset,
  });
  return { templates: rows, total: count };
}

export const getTemplate = (caller: Caller, id: string) => getVisibleTemplate(caller, id);

/** Deletes the template and its file (its creator or an admin). Documents filled from it keep their files. */
export async function deleteTemplate(caller: Caller, id: string): Promise<void> {
  authorize(policies.write(caller as AuthContext));
  const template = await getVisibleTemplate(caller, id);
  authorize(template.createdById === caller.userId || isTenantAdmin(caller), 'Only the template’s creator or an admin can delete it.');
  const size = (await storage().get(template.fileUrl).catch(() => null))?.length ?? 0;
  await db().transaction(async (transaction: Transaction) => {
    const locked = await DocumentTemplate.findOne({ where: { id: template.id, tenantId: caller.tenantId }, transaction, lock: transaction.LOCK.UPDATE });
    if (!locked) throw templateNotFound();
    await locked.destroy({ transaction }); // documents_document.template_id → NULL (ON DELETE SET NULL)
    if (size > 0) await changeStorageUsage(caller.tenantId, -size, transaction);
    await auditAs(caller as AuthContext, 'document_template.deleted', { type: 'document_template', id: template.id, details: { name: template.name, type: template.type } }, transaction);
  });
  await storage().delete(template.fileUrl).catch((err: unknown) => log.warn({ err, key: template.fileUrl }, 'could not remove a deleted template’s file'));
}

function formatBytes(n: number): string {
  return n >= 1024 * 1024 ? `${(n / 1024 / 1024).toFixed(n % (1024 * 1024) ? 1 : 0)} MB` : `${Math.round(n / 1024)} KB`;
}

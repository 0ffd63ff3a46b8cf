// Who may see and change generated documents and templates. Every read (routes, tools, MCP resources)
// goes through readableDocumentsWhere / findReadableDocument, so the rules live in one place:
//
// - always within the caller's tenant; another tenant's id reads exactly like one that does not exist;
// - private: the creator and the users it is shared with;
// - team: there is no team below the tenant in the schema, so "team" means the creator's department
//   (core_user.department, compared trimmed and case-insensitively) when the creator has one, and the
//   whole tenant when they have none;
// - organization: the whole tenant;
// - owners and admins read every document of their tenant: they may delete, share or re-scope any of
//   them, and a document they can change but not see would be a worse secret than a visible one.
//
// Writes (new versions, sharing, visibility, deletion) belong to the creator and to owners/admins.
// Templates: public ones are visible to the whole tenant, the others to their creator and admins.
import { Op, literal, type Transaction, type WhereOptions } from 'sequelize';
import type { AuthContext } from '../auth/context.js';
import { authorize, policies } from '../auth/policies.js';
import { atLeast } from '../auth/roles.js';
import { db } from '../db/index.js';
import { Document, DocumentTemplate } from '../db/models/index.js';
import { notFound } from '../errors.js';
import { isUuid } from '../ids.js';

/** What the document commands need of a caller (an HTTP AuthContext, or a tool's context). */
export type Caller = Pick<AuthContext, 'tenantId' | 'userId' | 'role'> & Partial<AuthContext>;

export const isTenantAdmin = (caller: Caller) => atLeast(caller.role, 'admin');

export const documentNotFound = () => notFound('The document', 'document_not_found');
export const templateNotFound = () => notFound('The template', 'template_not_found');

/** The WHERE clause (on documents_document) of the documents this caller may read. */
export function readableDocumentsWhere(caller: Caller): WhereOptions {
  if (isTenantAdmin(caller)) return { tenantId: caller.tenantId };
  const me = db().escape(caller.userId);
  const tenant = db().escape(caller.tenantId);
  const dept = (alias: string) => `lower(btrim(${alias}.department))`;
  return {
    tenantId: caller.tenantId,
    [Op.or]: [
      { visibility: 'organization' },
      { createdById: caller.userId },
      { id: { [Op.in]: literal(`(SELECT document_id FROM documents_document_shared_with WHERE user_id = ${me})`) } },
      {
        visibility: 'team',
        createdById: {
          [Op.in]: literal(
            `(SELECT c.id FROM core_user c WHERE c.tenant_id = ${tenant} AND (NULLIF(btrim(c.department), '') IS NULL OR ` +
              `${dept('c')} = (SELECT ${dept('r')} FROM core_user r WHERE r.id = ${me} AND r.tenant_id = ${tenant})))`,
          ),
        },
      },
    ],
  };
}

/** The document if this caller may read it, else null (other tenants' ids included). */
export async function findReadableDocument(caller: Caller, id: string, transaction?: Transaction): Promise<Document | null> {
  if (!isUuid(id)) return null;
  return Document.findOne({ where: { [Op.and]: [{ id }, readableDocumentsWhere(caller)] }, transaction });
}

export async function canReadDocument(caller: Caller, id: string): Promise<boolean> {
  return (await findReadableDocument(caller, id)) !== null;
}

/** The readable document, or 404 document_not_found. */
export async function getReadableDocument(caller: Caller, id: string, transaction?: Transaction): Promise<Document> {
  authorize(policies.read(caller as AuthContext));
  const doc = await findReadableDocument(caller, id, transaction);
  if (!doc) throw documentNotFound();
  return doc;
}

export const canWriteDocument = (caller: Caller, doc: Pick<Document, 'tenantId' | 'createdById'>) =>
  doc.tenantId === caller.tenantId && (doc.createdById === caller.userId || isTenantAdmin(caller));

/**
 * The document for a change: readable (else 404), and the caller its creator or an admin (else 403).
 * With a transaction, the row is locked for the rest of it.
 */
export async function getWritableDocument(caller: Caller, id: string, transaction?: Transaction): Promise<Document> {
  authorize(policies.write(caller as AuthContext));
  const doc = await getReadableDocument(caller, id, transaction);
  authorize(canWriteDocument(caller, doc), 'Only the document’s creator or an admin can change it.');
  if (!transaction) return doc;
  const locked = await Document.findOne({ where: { id: doc.id, tenantId: caller.tenantId }, transaction, lock: transaction.LOCK.UPDATE });
  if (!locked) throw documentNotFound();
  return locked;
}

/** The WHERE clause of the templates this caller may see and use. */
export function visibleTemplatesWhere(caller: Caller): WhereOptions {
  if (isTenantAdmin(caller)) return { tenantId: caller.tenantId };
  return { tenantId: caller.tenantId, [Op.or]: [{ isPublic: true }, { createdById: caller.userId }] };
}

export async function getVisibleTemplate(caller: Caller, id: string, transaction?: Transaction): Promise<DocumentTemplate> {
  authorize(policies.read(caller as AuthContext));
  const template = isUuid(id)
    ? await DocumentTemplate.findOne({ where: { [Op.and]: [{ id }, visibleTemplatesWhere(caller)] }, transaction })
    : null;
  if (!template) throw templateNotFound();
  return template;
}

// Sharing a document with named users of the caller's tenant (documents_document_shared_with). A user id
// of another tenant is refused exactly like one that does not exist. Only the creator and admins share.
import { Op } from 'sequelize';
import { auditAs } from '../analytics/audit.js';
import type { AuthContext } from '../auth/context.js';
import { db } from '../db/index.js';
import { DocumentShare, User } from '../db/models/index.js';
import { AppError, notFound } from '../errors.js';
import { isUuid } from '../ids.js';
import { getWritableDocument, type Caller } from './access.js';

export interface PresentedShare {
  userId: string;
  email: string;
  sharedAt: Date | null;
}

async function sharesOf(documentId: string, transaction?: import('sequelize').Transaction): Promise<PresentedShare[]> {
  const shares = await DocumentShare.findAll({ where: { documentId }, include: [{ model: User, attributes: ['id', 'email'] }], order: [['sharedAt', 'ASC'], ['id', 'ASC']], transaction });
  return shares.map((s) => ({ userId: s.userId, email: (s.get('User') as User | undefined)?.email ?? '', sharedAt: s.sharedAt }));
}

export async function listShares(caller: Caller, documentId: string): Promise<PresentedShare[]> {
  const doc = await getWritableDocument(caller, documentId);
  return sharesOf(doc.id);
}

export async function shareDocument(caller: Caller, documentId: string, userIds: string[]): Promise<PresentedShare[]> {
  const wanted = [...new Set(userIds)];
  return db().transaction(async (transaction) => {
    const doc = await getWritableDocument(caller, documentId, transaction);
    const valid = wanted.filter(isUuid);
    const users = await User.findAll({ where: { id: { [Op.in]: valid }, tenantId: caller.tenantId }, attributes: ['id'], transaction });
    const found = new Set(users.map((u) => u.id));
    const missing = wanted.filter((id) => !found.has(id));
    if (missing.length) {
      const message = missing.length === 1 ? 'That user was not found in your team.' : 'Some of those users were not found in your team.';
      throw new AppError('user_not_found', message, 404, { details: { missing } });
    }
    // The creator always reads their own document; a share row for them would only be noise.
    const added = wanted.filter((id) => id !== doc.createdById);
    if (added.length) {
      await DocumentShare.bulkCreate(
        added.map((userId) => ({ documentId: doc.id, userId })),
        { transaction, ignoreDuplicates: true },
      );
    }
    await auditAs(caller as AuthContext, 'document.shared', { type: 'document', id: doc.id, details: { userIds: added } }, transaction);
    return sharesOf(doc.id, transaction);
  });
}

export async function unshareDocument(caller: Caller, documentId: string, userId: string): Promise<PresentedShare[]> {
  return db().transaction(async (transaction) => {
    const doc = await getWritableDocument(caller, documentId, transaction);
    const removed = isUuid(userId) ? await DocumentShare.destroy({ where: { documentId: doc.id, userId }, transaction }) : 0;
    if (!removed) throw notFound('A share with that user', 'share_not_found');
    await auditAs(caller as AuthContext, 'document.unshared', { type: 'document', id: doc.id, details: { userId } }, transaction);
    return sharesOf(doc.id, transaction);
  });
}

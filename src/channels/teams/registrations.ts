// Which of our tenants a Microsoft Entra (Azure AD) tenant's Teams users belong to. An admin registers
// their organisation's Entra tenant id (Teams admin centre / Entra overview → Tenant ID); activities carry
// it as channelData.tenant.id. One Entra tenant maps to one FlowSpark team.
import { auditAs } from '../../analytics/audit.js';
import type { AuthContext } from '../../auth/context.js';
import { authorize } from '../../auth/policies.js';
import { db } from '../../db/index.js';
import { conflict, notFound } from '../../errors.js';
import { channelModels, type TeamsRegistration } from '../shared/models.js';
import { manageChannels } from '../shared/policy.js';

export const presentRegistration = (r: TeamsRegistration) => ({ id: r.id, entraTenantId: r.entraTenantId, createdById: r.createdById, createdAt: r.createdAt });

export async function registerTeamsTenant(auth: AuthContext, entraTenantId: string) {
  authorize(manageChannels(auth), 'Only an admin can connect Microsoft Teams.');
  const id = entraTenantId.trim().toLowerCase();
  const { TeamsRegistration } = channelModels();
  return db().transaction(async (transaction) => {
    const existing = await TeamsRegistration.findOne({ where: { entraTenantId: id }, transaction });
    if (existing) {
      if (existing.tenantId === auth.tenantId) return presentRegistration(existing);
      throw conflict('teams_tenant_taken', 'This Microsoft Entra tenant is already connected to another FlowSpark team.');
    }
    const row = await TeamsRegistration.create({ tenantId: auth.tenantId, entraTenantId: id, createdById: auth.userId }, { transaction });
    await auditAs(auth, 'teams.registered', { type: 'teams_registration', id: row.id, details: { entraTenantId: id } }, transaction);
    return presentRegistration(row);
  });
}

export async function listTeamsRegistrations(auth: AuthContext) {
  authorize(manageChannels(auth), 'Only an admin can see the Microsoft Teams connection.');
  const rows = await channelModels().TeamsRegistration.findAll({ where: { tenantId: auth.tenantId }, order: [['createdAt', 'ASC']] });
  return rows.map(presentRegistration);
}

export async function removeTeamsRegistration(auth: AuthContext, id: string) {
  authorize(manageChannels(auth), 'Only an admin can disconnect Microsoft Teams.');
  await db().transaction(async (transaction) => {
    const row = await channelModels().TeamsRegistration.findOne({ where: { id, tenantId: auth.tenantId }, transaction });
    if (!row) throw notFound('Teams connection', 'teams_registration_not_found');
    await row.destroy({ transaction });
    await auditAs(auth, 'teams.unregistered', { type: 'teams_registration', id, details: { entraTenantId: row.entraTenantId } }, transaction);
  });
}

export async function tenantForEntra(entraTenantId: string): Promise<string | null> {
  const row = await channelModels().TeamsRegistration.findOne({ where: { entraTenantId: entraTenantId.trim().toLowerCase() } });
  return row?.tenantId ?? null;
}

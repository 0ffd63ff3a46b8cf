// Every model, initialised on one Sequelize instance, with their associations.
import type { Sequelize } from 'sequelize';
import { config } from '../../config.js';
import { AuditLog, initAnalyticsModels, Usage } from './analytics.js';
import { Conversation, initAgentsModels, Interaction, Preference } from './agents.js';
import { ApiKey, initAuthModels, Session } from './auth.js';
import { initBillingModels, Plan, Subscription, TokenBalance, TokenPackage, TokenTransaction } from './billing.js';
import { initCoreModels, Tenant, User } from './core.js';
import { Document, DocumentShare, DocumentTemplate, DocumentVersion, initDocumentsModels } from './documents.js';
import { initKbModels, KbChunk, KbDocument, KbQuery } from './kb.js';

export * from './analytics.js';
export * from './agents.js';
export * from './auth.js';
export * from './billing.js';
export * from './core.js';
export * from './documents.js';
export * from './kb.js';

export function initModels(sequelize: Sequelize, embeddingDimensions = config().EMBEDDING_DIMENSIONS): void {
  initCoreModels(sequelize);
  initAuthModels(sequelize);
  initDocumentsModels(sequelize);
  initKbModels(sequelize, embeddingDimensions);
  initBillingModels(sequelize);
  initAnalyticsModels(sequelize);
  initAgentsModels(sequelize, embeddingDimensions);

  Tenant.hasMany(User, { foreignKey: 'tenantId' });
  User.belongsTo(Tenant, { foreignKey: 'tenantId' });
  Session.belongsTo(User, { foreignKey: 'userId' });
  ApiKey.belongsTo(User, { foreignKey: 'userId' });
  ApiKey.belongsTo(Tenant, { foreignKey: 'tenantId' });

  DocumentTemplate.belongsTo(User, { as: 'createdBy', foreignKey: 'createdById' });
  Document.belongsTo(User, { as: 'createdBy', foreignKey: 'createdById' });
  Document.belongsTo(DocumentTemplate, { as: 'template', foreignKey: 'templateId' });
  Document.hasMany(DocumentVersion, { as: 'versions', foreignKey: 'documentId' });
  Document.hasMany(DocumentShare, { as: 'shares', foreignKey: 'documentId' });
  DocumentVersion.belongsTo(Document, { foreignKey: 'documentId' });
  DocumentShare.belongsTo(Document, { foreignKey: 'documentId' });
  DocumentShare.belongsTo(User, { foreignKey: 'userId' });

  KbDocument.hasMany(KbChunk, { as: 'chunks', foreignKey: 'documentId' });
  KbChunk.belongsTo(KbDocument, { as: 'document', foreignKey: 'documentId' });
  KbDocument.belongsTo(User, { as: 'uploadedBy', foreignKey: 'uploadedById' });
  KbQuery.belongsTo(User, { as: 'queriedBy', foreignKey: 'queriedById' });

  Subscription.belongsTo(Plan, { as: 'plan', foreignKey: 'planId' });
  Subscription.belongsTo(Tenant, { foreignKey: 'tenantId' });
  Tenant.hasOne(Subscription, { as: 'subscription', foreignKey: 'tenantId' });
  Tenant.hasOne(TokenBalance, { as: 'tokenBalance', foreignKey: 'tenantId' });
  TokenTransaction.belongsTo(Tenant, { foreignKey: 'tenantId' });
  void TokenPackage;

  Usage.belongsTo(User, { foreignKey: 'userId' });
  AuditLog.belongsTo(User, { foreignKey: 'userId' });

  Conversation.hasMany(Interaction, { as: 'interactions', foreignKey: 'conversationId' });
  Interaction.belongsTo(Conversation, { foreignKey: 'conversationId' });
  Preference.belongsTo(User, { foreignKey: 'userId' });
}

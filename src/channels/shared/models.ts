// Models for the channel tables (migrations/0006_channels.ts). They live with the channels rather than in
// src/db/models, so they are initialised on the current Sequelize instance on first use: always reach them
// through `channelModels()`.
import { DataTypes, Model, type Sequelize } from 'sequelize';
import { db } from '../../db/index.js';

export class SlackInstallation extends Model {
  declare id: string;
  declare tenantId: string;
  declare teamId: string;
  declare teamName: string | null;
  declare enterpriseId: string | null;
  declare appId: string | null;
  declare botUserId: string;
  /** AES-256-GCM ciphertext (secret-box.ts); read the token with `slackBotToken(installation)`. */
  declare botTokenEncrypted: string;
  declare scopes: string[];
  declare installedById: string | null;
  declare installerSlackUserId: string | null;
  declare createdAt: Date;
  declare updatedAt: Date;
}

export class TeamsRegistration extends Model {
  declare id: string;
  declare tenantId: string;
  declare entraTenantId: string;
  declare createdById: string | null;
  declare createdAt: Date;
}

let initialisedOn: Sequelize | undefined;

function init(sequelize: Sequelize) {
  SlackInstallation.init(
    {
      id: { type: DataTypes.UUID, primaryKey: true, defaultValue: DataTypes.UUIDV4, allowNull: false },
      tenantId: { type: DataTypes.UUID, allowNull: false },
      teamId: { type: DataTypes.STRING(32), allowNull: false },
      teamName: { type: DataTypes.STRING(255) },
      enterpriseId: { type: DataTypes.STRING(32) },
      appId: { type: DataTypes.STRING(32) },
      botUserId: { type: DataTypes.STRING(32), allowNull: false },
      botTokenEncrypted: { type: DataTypes.TEXT, allowNull: false },
      scopes: { type: DataTypes.JSONB, defaultValue: [] },
      installedById: { type: DataTypes.UUID },
      installerSlackUserId: { type: DataTypes.STRING(32) },
      createdAt: { type: DataTypes.DATE },
      updatedAt: { type: DataTypes.DATE },
    },
    { sequelize, underscored: true, tableName: 'channels_slack_installation' },
  );
  TeamsRegistration.init(
    {
      id: { type: DataTypes.UUID, primaryKey: true, defaultValue: DataTypes.UUIDV4, allowNull: false },
      tenantId: { type: DataTypes.UUID, allowNull: false },
      entraTenantId: { type: DataTypes.STRING(64), allowNull: false },
      createdById: { type: DataTypes.UUID },
      createdAt: { type: DataTypes.DATE },
    },
    { sequelize, underscored: true, tableName: 'channels_teams_registration', updatedAt: false },
  );
}

export function channelModels() {
  const sequelize = db();
  if (initialisedOn !== sequelize) {
    init(sequelize);
    initialisedOn = sequelize;
  }
  return { SlackInstallation, TeamsRegistration };
}

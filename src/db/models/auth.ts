// Models for the auth tables (column names and types as in migrations/). Generated once from the
// migrated schema, then kept by hand.
import { DataTypes, Model, type Sequelize } from 'sequelize';

export class Session extends Model {
  declare id: string;
  declare userId: string;
  declare tenantId: string;
  declare expiresAt: Date;
  declare ipAddress: string | null;
  declare userAgent: string | null;
  declare createdAt: Date;
}

export class ApiKey extends Model {
  declare id: string;
  declare tenantId: string;
  declare userId: string;
  declare createdById: string | null;
  declare name: string;
  declare prefix: string;
  declare keyHash: string;
  declare scopes: any;
  declare lastUsedAt: Date | null;
  declare expiresAt: Date | null;
  declare revokedAt: Date | null;
  declare createdAt: Date;
}

export function initAuthModels(sequelize: Sequelize): void {
  Session.init(
    {
      id: { type: DataTypes.STRING(64), primaryKey: true, allowNull: false },
      userId: { type: DataTypes.UUID, allowNull: false },
      tenantId: { type: DataTypes.UUID, allowNull: false },
      expiresAt: { type: DataTypes.DATE, allowNull: false },
      ipAddress: { type: DataTypes.INET },
      userAgent: { type: DataTypes.TEXT },
      createdAt: { type: DataTypes.DATE },
    },
    { sequelize, underscored: true, tableName: 'auth_session', updatedAt: false },
  );
  ApiKey.init(
    {
      id: { type: DataTypes.UUID, primaryKey: true, defaultValue: DataTypes.UUIDV4, allowNull: false },
      tenantId: { type: DataTypes.UUID, allowNull: false },
      userId: { type: DataTypes.UUID, allowNull: false },
      createdById: { type: DataTypes.UUID },
      name: { type: DataTypes.STRING(100), allowNull: false },
      prefix: { type: DataTypes.STRING(16), allowNull: false },
      keyHash: { type: DataTypes.STRING(64), allowNull: false },
      scopes: { type: DataTypes.JSONB, defaultValue: [] },
      lastUsedAt: { type: DataTypes.DATE },
      expiresAt: { type: DataTypes.DATE },
      revokedAt: { type: DataTypes.DATE },
      createdAt: { type: DataTypes.DATE },
    },
    { sequelize, underscored: true, tableName: 'auth_api_key', updatedAt: false },
  );
}

// Models for the analytics tables (column names and types as in migrations/). Generated once from the
// migrated schema, then kept by hand.
import { DataTypes, Model, type Sequelize } from 'sequelize';

export class Usage extends Model {
  declare id: string;
  declare tenantId: string;
  declare userId: string | null;
  declare activityType: string;
  declare tokensUsed: number | null;
  declare executionTimeSeconds: number | null;
  declare metadata: any | null;
  declare createdAt: Date;
}

export class AuditLog extends Model {
  declare id: string;
  declare tenantId: string;
  declare userId: string | null;
  declare action: string;
  declare resourceType: string | null;
  declare resourceId: string | null;
  declare details: any | null;
  declare ipAddress: string | null;
  declare userAgent: string | null;
  declare createdAt: Date;
}

export function initAnalyticsModels(sequelize: Sequelize): void {
  Usage.init(
    {
      id: { type: DataTypes.UUID, primaryKey: true, defaultValue: DataTypes.UUIDV4, allowNull: false },
      tenantId: { type: DataTypes.UUID, allowNull: false },
      userId: { type: DataTypes.UUID },
      activityType: { type: DataTypes.STRING(100), allowNull: false },
      tokensUsed: { type: DataTypes.INTEGER },
      executionTimeSeconds: { type: DataTypes.DOUBLE },
      metadata: { type: DataTypes.JSONB, defaultValue: {} },
      createdAt: { type: DataTypes.DATE, primaryKey: true },
    },
    { sequelize, underscored: true, tableName: 'analytics_usage', updatedAt: false },
  );
  AuditLog.init(
    {
      id: { type: DataTypes.UUID, primaryKey: true, defaultValue: DataTypes.UUIDV4, allowNull: false },
      tenantId: { type: DataTypes.UUID, allowNull: false },
      userId: { type: DataTypes.UUID },
      action: { type: DataTypes.STRING(100), allowNull: false },
      resourceType: { type: DataTypes.STRING(50) },
      resourceId: { type: DataTypes.UUID },
      details: { type: DataTypes.JSONB, defaultValue: {} },
      ipAddress: { type: DataTypes.INET },
      userAgent: { type: DataTypes.TEXT },
      createdAt: { type: DataTypes.DATE },
    },
    { sequelize, underscored: true, tableName: 'audit_log', updatedAt: false },
  );
}

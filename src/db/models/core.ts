// Models for the core tables (column names and types as in migrations/). Generated once from the
// migrated schema, then kept by hand.
import { DataTypes, Model, type Sequelize } from 'sequelize';

export class Tenant extends Model {
  declare id: string;
  declare name: string;
  declare slug: string;
  declare tier: 'free' | 'standard' | 'professional' | 'enterprise';
  declare status: 'active' | 'suspended' | 'trial' | 'cancelled';
  declare maxUsers: number | null;
  declare maxStorageGb: number | null;
  declare logoUrl: string | null;
  declare primaryColor: string | null;
  declare customDomain: string | null;
  declare dedicatedVectorDb: boolean | null;
  declare dedicatedStorage: boolean | null;
  declare createdAt: Date;
  declare updatedAt: Date;
}

export class User extends Model {
  declare id: string;
  declare tenantId: string;
  declare email: string;
  declare passwordHash: string;
  declare isActive: boolean | null;
  declare emailVerified: boolean | null;
  declare firstName: string | null;
  declare lastName: string | null;
  declare avatarUrl: string | null;
  declare phone: string | null;
  declare department: string | null;
  declare role: 'owner' | 'admin' | 'manager' | 'member' | 'viewer';
  declare timezone: string | null;
  declare language: string | null;
  declare createdAt: Date;
  declare updatedAt: Date;
  declare lastLogin: Date | null;
}

export function initCoreModels(sequelize: Sequelize): void {
  Tenant.init(
    {
      id: { type: DataTypes.UUID, primaryKey: true, defaultValue: DataTypes.UUIDV4, allowNull: false },
      name: { type: DataTypes.STRING(255), allowNull: false },
      slug: { type: DataTypes.STRING(100), allowNull: false },
      tier: { type: DataTypes.ENUM('free', 'standard', 'professional', 'enterprise') },
      status: { type: DataTypes.ENUM('active', 'suspended', 'trial', 'cancelled') },
      maxUsers: { type: DataTypes.INTEGER },
      maxStorageGb: { type: DataTypes.INTEGER },
      logoUrl: { type: DataTypes.TEXT },
      primaryColor: { type: DataTypes.STRING(7) },
      customDomain: { type: DataTypes.STRING(255) },
      dedicatedVectorDb: { type: DataTypes.BOOLEAN },
      dedicatedStorage: { type: DataTypes.BOOLEAN },
      createdAt: { type: DataTypes.DATE },
      updatedAt: { type: DataTypes.DATE },
    },
    { sequelize, underscored: true, tableName: 'core_tenant' },
  );
  User.init(
    {
      id: { type: DataTypes.UUID, primaryKey: true, defaultValue: DataTypes.UUIDV4, allowNull: false },
      tenantId: { type: DataTypes.UUID, allowNull: false },
      email: { type: DataTypes.STRING(255), allowNull: false },
      passwordHash: { type: DataTypes.STRING(255), allowNull: false },
      isActive: { type: DataTypes.BOOLEAN },
      emailVerified: { type: DataTypes.BOOLEAN },
      firstName: { type: DataTypes.STRING(150) },
      lastName: { type: DataTypes.STRING(150) },
      avatarUrl: { type: DataTypes.TEXT },
      phone: { type: DataTypes.STRING(20) },
      department: { type: DataTypes.STRING(100) },
      role: { type: DataTypes.ENUM('owner', 'admin', 'manager', 'member', 'viewer') },
      timezone: { type: DataTypes.STRING(50) },
      language: { type: DataTypes.STRING(10) },
      createdAt: { type: DataTypes.DATE },
      updatedAt: { type: DataTypes.DATE },
      lastLogin: { type: DataTypes.DATE },
    },
    { sequelize, underscored: true, tableName: 'core_user' },
  );
}

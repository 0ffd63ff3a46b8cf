// Models for the billing tables (column names and types as in migrations/). Generated once from the
// migrated schema, then kept by hand.
import { DataTypes, Model, type Sequelize } from 'sequelize';

export class Plan extends Model {
  declare id: string;
  declare name: string;
  declare slug: string;
  declare tier: 'free' | 'standard' | 'professional' | 'enterprise';
  declare priceMonthly: string;
  declare priceYearly: string;
  declare maxUsers: number;
  declare maxDocumentsPerMonth: number;
  declare maxStorageGb: number;
  declare includedTokens: number | null;
  declare features: any | null;
  declare stripePriceIdMonthly: string | null;
  declare stripePriceIdYearly: string | null;
  declare isActive: boolean | null;
  declare createdAt: Date;
  declare updatedAt: Date;
}

export class Subscription extends Model {
  declare id: string;
  declare tenantId: string;
  declare planId: string;
  declare status: 'trialing' | 'active' | 'past_due' | 'canceled' | 'unpaid' | null;
  declare interval: 'monthly' | 'yearly' | null;
  declare stripeSubscriptionId: string | null;
  declare stripeCustomerId: string | null;
  declare trialEnd: Date | null;
  declare currentPeriodStart: Date;
  declare currentPeriodEnd: Date;
  declare cancelledAt: Date | null;
  declare documentsUsedThisPeriod: number | null;
  declare storageUsedGb: number | null;
  declare createdAt: Date;
  declare updatedAt: Date;
}

export class TokenPackage extends Model {
  declare id: string;
  declare name: string;
  declare tokens: number;
  declare price: string;
  declare stripePriceId: string | null;
  declare isActive: boolean | null;
  declare createdAt: Date;
}

export class TokenBalance extends Model {
  declare id: string;
  declare tenantId: string;
  declare balance: number | null;
  declare lifetimePurchased: number | null;
  declare lifetimeUsed: number | null;
  declare lowBalanceThreshold: number | null;
  declare lowBalanceAlertSent: boolean | null;
  declare createdAt: Date;
  declare updatedAt: Date;
}

export class TokenTransaction extends Model {
  declare id: string;
  declare tenantId: string;
  declare amount: number;
  declare operation: string;
  declare balanceAfter: number;
  declare metadata: any | null;
  declare createdAt: Date;
}

export function initBillingModels(sequelize: Sequelize): void {
  Plan.init(
    {
      id: { type: DataTypes.UUID, primaryKey: true, defaultValue: DataTypes.UUIDV4, allowNull: false },
      name: { type: DataTypes.STRING(100), allowNull: false },
      slug: { type: DataTypes.STRING(50), allowNull: false },
      tier: { type: DataTypes.ENUM('free', 'standard', 'professional', 'enterprise'), allowNull: false },
      priceMonthly: { type: DataTypes.DECIMAL(10, 2), allowNull: false },
      priceYearly: { type: DataTypes.DECIMAL(10, 2), allowNull: false },
      maxUsers: { type: DataTypes.INTEGER, allowNull: false },
      maxDocumentsPerMonth: { type: DataTypes.INTEGER, allowNull: false },
      maxStorageGb: { type: DataTypes.INTEGER, allowNull: false },
      includedTokens: { type: DataTypes.INTEGER },
      features: { type: DataTypes.JSONB, defaultValue: {} },
      stripePriceIdMonthly: { type: DataTypes.STRING(100) },
      stripePriceIdYearly: { type: DataTypes.STRING(100) },
      isActive: { type: DataTypes.BOOLEAN },
      createdAt: { type: DataTypes.DATE },
      updatedAt: { type: DataTypes.DATE },
    },
    { sequelize, underscored: true, tableName: 'billing_plan' },
  );
  Subscription.init(
    {
      id: { type: DataTypes.UUID, primaryKey: true, defaultValue: DataTypes.UUIDV4, allowNull: false },
      tenantId: { type: DataTypes.UUID, allowNull: false },
      planId: { type: DataTypes.UUID, allowNull: false },
      status: { type: DataTypes.ENUM('trialing', 'active', 'past_due', 'canceled', 'unpaid') },
      interval: { type: DataTypes.ENUM('monthly', 'yearly') },
      stripeSubscriptionId: { type: DataTypes.STRING(100) },
      stripeCustomerId: { type: DataTypes.STRING(100) },
      trialEnd: { type: DataTypes.DATE },
      currentPeriodStart: { type: DataTypes.DATE, allowNull: false },
      currentPeriodEnd: { type: DataTypes.DATE, allowNull: false },
      cancelledAt: { type: DataTypes.DATE },
      documentsUsedThisPeriod: { type: DataTypes.INTEGER },
      storageUsedGb: { type: DataTypes.DOUBLE },
      createdAt: { type: DataTypes.DATE },
      updatedAt: { type: DataTypes.DATE },
    },
    { sequelize, underscored: true, tableName: 'billing_subscription' },
  );
  TokenPackage.init(
    {
      id: { type: DataTypes.UUID, primaryKey: true, defaultValue: DataTypes.UUIDV4, allowNull: false },
      name: { type: DataTypes.STRING(100), allowNull: false },
      tokens: { type: DataTypes.INTEGER, allowNull: false },
      price: { type: DataTypes.DECIMAL(10, 2), allowNull: false },
      stripePriceId: { type: DataTypes.STRING(100) },
      isActive: { type: DataTypes.BOOLEAN },
      createdAt: { type: DataTypes.DATE },
    },
    { sequelize, underscored: true, tableName: 'billing_token_package', updatedAt: false },
  );
  TokenBalance.init(
    {
      id: { type: DataTypes.UUID, primaryKey: true, defaultValue: DataTypes.UUIDV4, allowNull: false },
      tenantId: { type: DataTypes.UUID, allowNull: false },
      balance: { type: DataTypes.INTEGER },
      lifetimePurchased: { type: DataTypes.INTEGER },
      lifetimeUsed: { type: DataTypes.INTEGER },
      lowBalanceThreshold: { type: DataTypes.INTEGER },
      lowBalanceAlertSent: { type: DataTypes.BOOLEAN },
      createdAt: { type: DataTypes.DATE },
      updatedAt: { type: DataTypes.DATE },
    },
    { sequelize, underscored: true, tableName: 'billing_token_balance' },
  );
  TokenTransaction.init(
    {
      id: { type: DataTypes.UUID, primaryKey: true, defaultValue: DataTypes.UUIDV4, allowNull: false },
      tenantId: { type: DataTypes.UUID, allowNull: false },
      amount: { type: DataTypes.INTEGER, allowNull: false },
      operation: { type: DataTypes.STRING(100), allowNull: false },
      balanceAfter: { type: DataTypes.INTEGER, allowNull: false },
      metadata: { type: DataTypes.JSONB, defaultValue: {} },
      createdAt: { type: DataTypes.DATE },
    },
    { sequelize, underscored: true, tableName: 'billing_token_transaction', updatedAt: false },
  );
}

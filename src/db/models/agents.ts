// Models for the agents tables (column names and types as in migrations/). Generated once from the
// migrated schema, then kept by hand.
import { DataTypes, Model, type Sequelize } from 'sequelize';

export class Conversation extends Model {
  declare id: string;
  declare tenantId: string;
  declare userId: string;
  declare title: string;
  declare channel: string;
  declare externalId: string | null;
  declare metadata: any;
  declare lastMessageAt: Date | null;
  declare createdAt: Date;
  declare updatedAt: Date;
}

export class Interaction extends Model {
  declare id: string;
  declare tenantId: string;
  declare userId: string;
  declare interactionType: string;
  declare data: any;
  declare createdAt: Date;
  declare conversationId: string | null;
  declare embedding: number[] | null;
}

export class Preference extends Model {
  declare id: string;
  declare tenantId: string;
  declare userId: string;
  declare key: string;
  declare value: any;
  declare createdAt: Date;
  declare updatedAt: Date;
}

export function initAgentsModels(sequelize: Sequelize, embeddingDimensions: number): void {
  Conversation.init(
    {
      id: { type: DataTypes.UUID, primaryKey: true, defaultValue: DataTypes.UUIDV4, allowNull: false },
      tenantId: { type: DataTypes.UUID, allowNull: false },
      userId: { type: DataTypes.UUID, allowNull: false },
      title: { type: DataTypes.STRING(255) },
      channel: { type: DataTypes.STRING(20) },
      externalId: { type: DataTypes.STRING(255) },
      metadata: { type: DataTypes.JSONB, defaultValue: {} },
      lastMessageAt: { type: DataTypes.DATE },
      createdAt: { type: DataTypes.DATE },
      updatedAt: { type: DataTypes.DATE },
    },
    { sequelize, underscored: true, tableName: 'agents_conversation' },
  );
  Interaction.init(
    {
      id: { type: DataTypes.UUID, primaryKey: true, defaultValue: DataTypes.UUIDV4, allowNull: false },
      tenantId: { type: DataTypes.UUID, allowNull: false },
      userId: { type: DataTypes.UUID, allowNull: false },
      interactionType: { type: DataTypes.STRING(100), allowNull: false },
      data: { type: DataTypes.JSONB, allowNull: false },
      createdAt: { type: DataTypes.DATE },
      conversationId: { type: DataTypes.UUID },
      embedding: { type: DataTypes.VECTOR(embeddingDimensions) },
    },
    { sequelize, underscored: true, tableName: 'agents_interaction', updatedAt: false },
  );
  Preference.init(
    {
      id: { type: DataTypes.UUID, primaryKey: true, defaultValue: DataTypes.UUIDV4, allowNull: false },
      tenantId: { type: DataTypes.UUID, allowNull: false },
      userId: { type: DataTypes.UUID, allowNull: false },
      key: { type: DataTypes.STRING(100), allowNull: false },
      value: { type: DataTypes.JSONB, allowNull: false },
      createdAt: { type: DataTypes.DATE },
      updatedAt: { type: DataTypes.DATE },
    },
    { sequelize, underscored: true, tableName: 'agents_preference' },
  );
}

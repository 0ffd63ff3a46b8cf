// Models for the widget's tables (migrations/0005_widget.ts). Bound lazily to the current database, so
// the channels feature needs no change to src/db/models.
import { DataTypes, Model, type Sequelize } from 'sequelize';
import { db } from '../../db/index.js';

export class WidgetSettings extends Model {
  declare tenantId: string;
  declare allowedOrigins: string[];
  declare autoCreateUsers: boolean;
  declare createdAt: Date;
  declare updatedAt: Date;
}

export class WidgetToken extends Model {
  declare id: string;
  declare tenantId: string;
  declare userId: string;
  declare apiKeyId: string | null;
  declare expiresAt: Date;
  declare createdAt: Date;
}

let bound: Sequelize | undefined;

/** The widget's models, initialised on the database opened last. */
export function widgetModels() {
  const sequelize = db();
  if (bound !== sequelize) {
    WidgetSettings.init(
      {
        tenantId: { type: DataTypes.UUID, primaryKey: true, allowNull: false },
        allowedOrigins: { type: DataTypes.JSONB, allowNull: false, defaultValue: [] },
        autoCreateUsers: { type: DataTypes.BOOLEAN, allowNull: false, defaultValue: false },
        createdAt: { type: DataTypes.DATE },
        updatedAt: { type: DataTypes.DATE },
      },
      { sequelize, underscored: true, tableName: 'channels_widget_settings' },
    );
    WidgetToken.init(
      {
        id: { type: DataTypes.STRING(64), primaryKey: true, allowNull: false },
        tenantId: { type: DataTypes.UUID, allowNull: false },
        userId: { type: DataTypes.UUID, allowNull: false },
        apiKeyId: { type: DataTypes.UUID },
        expiresAt: { type: DataTypes.DATE, allowNull: false },
        createdAt: { type: DataTypes.DATE },
      },
      { sequelize, underscored: true, tableName: 'channels_widget_token', updatedAt: false },
    );
    bound = sequelize;
  }
  return { WidgetSettings, WidgetToken };
}

// Models for the documents tables (column names and types as in migrations/). Generated once from the
// migrated schema, then kept by hand.
import { DataTypes, Model, type Sequelize } from 'sequelize';

export class DocumentTemplate extends Model {
  declare id: string;
  declare tenantId: string;
  declare createdById: string | null;
  declare name: string;
  declare description: string | null;
  declare type: 'word' | 'pdf' | 'excel';
  declare fileUrl: string;
  declare variables: any | null;
  declare isBranded: boolean | null;
  declare isPublic: boolean | null;
  declare usageCount: number | null;
  declare createdAt: Date;
  declare updatedAt: Date;
}

export class Document extends Model {
  declare id: string;
  declare tenantId: string;
  declare createdById: string;
  declare templateId: string | null;
  declare title: string;
  declare description: string | null;
  declare format: 'docx' | 'pdf' | 'xlsx';
  declare status: 'pending' | 'processing' | 'completed' | 'failed' | null;
  declare inputData: any | null;
  declare generatedContent: string | null;
  declare fileUrl: string | null;
  declare fileSizeBytes: number | null;
  declare generationTimeSeconds: number | null;
  declare tokensUsed: number | null;
  declare modelUsed: string | null;
  declare errorMessage: string | null;
  declare visibility: 'private' | 'team' | 'organization' | null;
  declare createdAt: Date;
  declare updatedAt: Date;
}

export class DocumentShare extends Model {
  declare id: number;
  declare documentId: string;
  declare userId: string;
  declare sharedAt: Date | null;
}

export class DocumentVersion extends Model {
  declare id: string;
  declare documentId: string;
  declare versionNumber: number;
  declare fileUrl: string;
  declare contentSnapshot: string | null;
  declare createdById: string | null;
  declare createdAt: Date;
}

export function initDocumentsModels(sequelize: Sequelize): void {
  DocumentTemplate.init(
    {
      id: { type: DataTypes.UUID, primaryKey: true, defaultValue: DataTypes.UUIDV4, allowNull: false },
      tenantId: { type: DataTypes.UUID, allowNull: false },
      createdById: { type: DataTypes.UUID },
      name: { type: DataTypes.STRING(255), allowNull: false },
      description: { type: DataTypes.TEXT },
      type: { type: DataTypes.ENUM('word', 'pdf', 'excel'), allowNull: false },
      fileUrl: { type: DataTypes.TEXT, allowNull: false },
      variables: { type: DataTypes.JSONB, defaultValue: [] },
      isBranded: { type: DataTypes.BOOLEAN },
      isPublic: { type: DataTypes.BOOLEAN },
      usageCount: { type: DataTypes.INTEGER },
      createdAt: { type: DataTypes.DATE },
      updatedAt: { type: DataTypes.DATE },
    },
    { sequelize, underscored: true, tableName: 'documents_template' },
  );
  Document.init(
    {
      id: { type: DataTypes.UUID, primaryKey: true, defaultValue: DataTypes.UUIDV4, allowNull: false },
      tenantId: { type: DataTypes.UUID, allowNull: false },
      createdById: { type: DataTypes.UUID, allowNull: false },
      templateId: { type: DataTypes.UUID },
      title: { type: DataTypes.STRING(255), allowNull: false },
      description: { type: DataTypes.TEXT },
      format: { type: DataTypes.ENUM('docx', 'pdf', 'xlsx'), allowNull: false },
      status: { type: DataTypes.ENUM('pending', 'processing', 'completed', 'failed') },
      inputData: { type: DataTypes.JSONB },
      generatedContent: { type: DataTypes.TEXT },
      fileUrl: { type: DataTypes.TEXT },
      fileSizeBytes: { type: DataTypes.BIGINT },
      generationTimeSeconds: { type: DataTypes.DOUBLE },
      tokensUsed: { type: DataTypes.INTEGER },
      modelUsed: { type: DataTypes.STRING(100) },
      errorMessage: { type: DataTypes.TEXT },
      visibility: { type: DataTypes.ENUM('private', 'team', 'organization') },
      createdAt: { type: DataTypes.DATE },
      updatedAt: { type: DataTypes.DATE },
    },
    { sequelize, underscored: true, tableName: 'documents_document' },
  );
  DocumentShare.init(
    {
      id: { type: DataTypes.BIGINT, primaryKey: true, autoIncrement: true, allowNull: false },
      documentId: { type: DataTypes.UUID, allowNull: false },
      userId: { type: DataTypes.UUID, allowNull: false },
      sharedAt: { type: DataTypes.DATE },
    },
    { sequelize, underscored: true, tableName: 'documents_document_shared_with', createdAt: 'sharedAt', updatedAt: false },
  );
  DocumentVersion.init(
    {
      id: { type: DataTypes.UUID, primaryKey: true, defaultValue: DataTypes.UUIDV4, allowNull: false },
      documentId: { type: DataTypes.UUID, allowNull: false },
      versionNumber: { type: DataTypes.INTEGER, allowNull: false },
      fileUrl: { type: DataTypes.TEXT, allowNull: false },
      contentSnapshot: { type: DataTypes.TEXT },
      createdById: { type: DataTypes.UUID },
      createdAt: { type: DataTypes.DATE },
    },
    { sequelize, underscored: true, tableName: 'documents_version', updatedAt: false },
  );
}

// Models for the kb tables (column names and types as in migrations/). Generated once from the
// migrated schema, then kept by hand.
import { DataTypes, Model, type Sequelize } from 'sequelize';

export class KbDocument extends Model {
  declare id: string;
  declare tenantId: string;
  declare uploadedById: string;
  declare title: string;
  declare fileName: string;
  declare fileUrl: string;
  declare fileType: string | null;
  declare fileSizeBytes: number | null;
  declare status: 'uploading' | 'processing' | 'indexed' | 'failed' | null;
  declare totalPages: number | null;
  declare totalChunks: number | null;
  declare processingTimeSeconds: number | null;
  declare embeddingModel: string | null;
  declare vectorDbCollection: string | null;
  declare extractedText: string | null;
  declare metadata: any | null;
  declare tags: any | null;
  declare category: string | null;
  declare errorMessage: string | null;
  declare createdAt: Date;
  declare updatedAt: Date;
}

export class KbChunk extends Model {
  declare id: string;
  declare documentId: string;
  declare content: string;
  declare chunkIndex: number;
  declare vectorDbId: string;
  declare metadata: any | null;
  declare pageNumber: number | null;
  declare tenantId: string;
  declare embedding: number[] | null;
}

export class KbQuery extends Model {
  declare id: string;
  declare tenantId: string;
  declare queriedById: string;
  declare queryText: string;
  declare responseText: string | null;
  declare retrievedChunks: any | null;
  declare retrievalTimeSeconds: number | null;
  declare generationTimeSeconds: number | null;
  declare embeddingModel: string | null;
  declare llmModel: string | null;
  declare tokensUsed: number | null;
  declare createdAt: Date;
}

export function initKbModels(sequelize: Sequelize, embeddingDimensions: number): void {
  KbDocument.init(
    {
      id: { type: DataTypes.UUID, primaryKey: true, defaultValue: DataTypes.UUIDV4, allowNull: false },
      tenantId: { type: DataTypes.UUID, allowNull: false },
      uploadedById: { type: DataTypes.UUID, allowNull: false },
      title: { type: DataTypes.STRING(255), allowNull: false },
      fileName: { type: DataTypes.STRING(255), allowNull: false },
      fileUrl: { type: DataTypes.TEXT, allowNull: false },
      fileType: { type: DataTypes.STRING(50) },
      fileSizeBytes: { type: DataTypes.BIGINT },
      status: { type: DataTypes.ENUM('uploading', 'processing', 'indexed', 'failed') },
      totalPages: { type: DataTypes.INTEGER },
      totalChunks: { type: DataTypes.INTEGER },
      processingTimeSeconds: { type: DataTypes.DOUBLE },
      embeddingModel: { type: DataTypes.STRING(100) },
      vectorDbCollection: { type: DataTypes.STRING(255) },
      extractedText: { type: DataTypes.TEXT },
      metadata: { type: DataTypes.JSONB, defaultValue: {} },
      tags: { type: DataTypes.JSONB, defaultValue: [] },
      category: { type: DataTypes.STRING(100) },
      errorMessage: { type: DataTypes.TEXT },
      createdAt: { type: DataTypes.DATE },
      updatedAt: { type: DataTypes.DATE },
    },
    { sequelize, underscored: true, tableName: 'kb_document' },
  );
  KbChunk.init(
    {
      id: { type: DataTypes.UUID, primaryKey: true, defaultValue: DataTypes.UUIDV4, allowNull: false },
      documentId: { type: DataTypes.UUID, allowNull: false },
      content: { type: DataTypes.TEXT, allowNull: false },
      chunkIndex: { type: DataTypes.INTEGER, allowNull: false },
      vectorDbId: { type: DataTypes.STRING(255), allowNull: false },
      metadata: { type: DataTypes.JSONB, defaultValue: {} },
      pageNumber: { type: DataTypes.INTEGER },
      tenantId: { type: DataTypes.UUID, allowNull: false },
      embedding: { type: DataTypes.VECTOR(embeddingDimensions) },
    },
    { sequelize, underscored: true, tableName: 'kb_chunk', createdAt: false, updatedAt: false },
  );
  KbQuery.init(
    {
      id: { type: DataTypes.UUID, primaryKey: true, defaultValue: DataTypes.UUIDV4, allowNull: false },
      tenantId: { type: DataTypes.UUID, allowNull: false },
      queriedById: { type: DataTypes.UUID, allowNull: false },
      queryText: { type: DataTypes.TEXT, allowNull: false },
      responseText: { type: DataTypes.TEXT },
      retrievedChunks: { type: DataTypes.JSONB, defaultValue: [] },
      retrievalTimeSeconds: { type: DataTypes.DOUBLE },
      generationTimeSeconds: { type: DataTypes.DOUBLE },
      embeddingModel: { type: DataTypes.STRING(100) },
      llmModel: { type: DataTypes.STRING(100) },
      tokensUsed: { type: DataTypes.INTEGER },
      createdAt: { type: DataTypes.DATE },
    },
    { sequelize, underscored: true, tableName: 'kb_query', updatedAt: false },
  );
}

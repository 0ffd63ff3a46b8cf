// What other folders use of documents: the commands, the one visibility rule for reads, presenters.
export {
  canReadDocument,
  canWriteDocument,
  findReadableDocument,
  getReadableDocument,
  readableDocumentsWhere,
  visibleTemplatesWhere,
  type Caller,
} from './access.js';
export { deleteDocument, getDocument, listDocuments, listVersions, readDocumentFile, updateDocument } from './document-commands.js';
export { createDocumentVersion, documentVisibilities, generateDocument, type GenerateDocumentInput, type GenerationOptions } from './generate-document.js';
export { downloadUrl, presentDocument, presentTemplate } from './presenters.js';
export { listShares, shareDocument, unshareDocument } from './sharing.js';
export { deleteTemplate, getTemplate, listTemplates, uploadTemplate } from './template-commands.js';

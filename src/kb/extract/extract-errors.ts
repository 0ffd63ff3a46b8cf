// The extraction failures users can act on, each with a stable code the upload UI can translate.
import { AppError, unprocessable } from '../../errors.js';

const LABELS: Record<string, string> = { pdf: 'PDF file', docx: 'Word document', xlsx: 'Excel workbook' };

export const emptyFile = (fileName: string) => unprocessable('empty_file', `"${fileName}" is empty.`);

export const corruptFile = (fileName: string, fileType: string, cause?: unknown) =>
  new AppError('corrupt_file', `"${fileName}" is not a valid ${LABELS[fileType] ?? fileType} or is damaged.`, 422, {
    cause,
  });

export const encryptedFile = (fileName: string) =>
  unprocessable('encrypted_file', `"${fileName}" is password-protected. Remove the password and upload it again.`);

export const noText = (fileName: string) =>
  unprocessable(
    'no_text',
    `No text could be extracted from "${fileName}". Scanned documents and images need OCR, which is not supported.`,
  );

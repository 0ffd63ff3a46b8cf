// Which uploads the knowledge base accepts, and how an upload's real type is decided: magic bytes first
// (a PDF renamed .txt is still a PDF; a PNG renamed .pdf is still an image), the extension or declared mime
// type only for formats that have no signature (CSV, Markdown, HTML, plain text).
import path from 'node:path';
import { AppError } from '../../errors.js';
import { corruptFile, encryptedFile } from './extract-errors.js';
import type { KbFileType } from './types.js';
import { inspectZip } from './zip-guard.js';

export const SUPPORTED_FILE_TYPES: Readonly<Record<KbFileType, { extensions: string[]; mimeTypes: string[] }>> = {
  pdf: { extensions: ['.pdf'], mimeTypes: ['application/pdf'] },
  docx: {
    extensions: ['.docx'],
    mimeTypes: ['application/vnd.openxmlformats-officedocument.wordprocessingml.document'],
  },
  xlsx: {
    extensions: ['.xlsx'],
    mimeTypes: ['application/vnd.openxmlformats-officedocument.spreadsheetml.sheet'],
  },
  csv: { extensions: ['.csv', '.tsv'], mimeTypes: ['text/csv', 'application/csv', 'text/tab-separated-values'] },
  markdown: { extensions: ['.md', '.markdown'], mimeTypes: ['text/markdown', 'text/x-markdown'] },
  html: { extensions: ['.html', '.htm'], mimeTypes: ['text/html', 'application/xhtml+xml'] },
  text: { extensions: ['.txt', '.text'], mimeTypes: ['text/plain'] },
};

const entries = Object.entries(SUPPORTED_FILE_TYPES) as [KbFileType, { extensions: string[]; mimeTypes: string[] }][];
export const SUPPORTED_EXTENSIONS: readonly string[] = entries.flatMap(([, t]) => t.extensions);
export const SUPPORTED_MIME_TYPES: readonly string[] = entries.flatMap(([, t]) => t.mimeTypes);

// Local file header, or the end-of-central-directory record of an empty archive.
const ZIP_MAGICS = [Buffer.from('PK\x03\x04', 'latin1'), Buffer.from('PK\x05\x06', 'latin1')];
const OLE2_MAGIC = Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]);
// Password-protected .docx/.xlsx are not zips: Office wraps them in an OLE2 container with this stream.
const ENCRYPTED_PACKAGE = Buffer.from('EncryptedPackage', 'utf16le');
const BINARY_SNIFF_BYTES = 8192;
// Formats people upload by mistake, refused whatever their name says (a .png renamed .pdf is an image, not a
// damaged PDF): images, archives and executables.
const FOREIGN_MAGICS = [
  [0x89, 0x50, 0x4e, 0x47], // PNG
  [0xff, 0xd8, 0xff], // JPEG
  [0x47, 0x49, 0x46, 0x38], // GIF
  [0x52, 0x49, 0x46, 0x46], // RIFF (WebP, WAV, AVI)
  [0x1f, 0x8b], // gzip
  [0x37, 0x7a, 0xbc, 0xaf], // 7z
  [0x52, 0x61, 0x72, 0x21], // RAR
  [0x7f, 0x45, 0x4c, 0x46], // ELF
  [0x4d, 0x5a], // Windows executable ("MZ")
].map((m) => Buffer.from(m));

/** Decide the file's type, or throw `unsupported_file_type` / `corrupt_file` / `encrypted_file` / zip-bomb errors. */
export async function detectFileType(buffer: Buffer, fileName: string, mimeType?: string): Promise<KbFileType> {
  const declared = declaredType(fileName, mimeType);

  if (buffer.subarray(0, 1024).includes('%PDF-')) return 'pdf';

  if (ZIP_MAGICS.some((m) => buffer.subarray(0, 4).equals(m))) {
    const names = await inspectZip(buffer, fileName); // throws on a zip bomb before anything is inflated
    if (names?.has('word/document.xml')) return 'docx';
    if (names?.has('xl/workbook.xml')) return 'xlsx';
    if (declared === 'docx' || declared === 'xlsx') throw corruptFile(fileName, declared);
    throw unsupported(fileName);
  }

  if (buffer.subarray(0, OLE2_MAGIC.length).equals(OLE2_MAGIC)) {
    if (buffer.includes(ENCRYPTED_PACKAGE)) throw encryptedFile(fileName);
    throw unsupported(fileName, `"${fileName}" is a legacy Office file, which is not supported. Save it as .docx or .xlsx.`);
  }

  if (FOREIGN_MAGICS.some((m) => buffer.subarray(0, m.length).equals(m)) && looksBinary(buffer)) throw unsupported(fileName);
  if (declared === 'pdf' || declared === 'docx' || declared === 'xlsx') throw corruptFile(fileName, declared);
  if (!declared || looksBinary(buffer)) throw unsupported(fileName);
  return declared;
}

function declaredType(fileName: string, mimeType?: string): KbFileType | undefined {
  const ext = path.extname(fileName).toLowerCase();
  const mime = mimeType?.split(';')[0]!.trim().toLowerCase();
  return (
    entries.find(([, t]) => t.extensions.includes(ext))?.[0] ??
    entries.find(([, t]) => mime !== undefined && t.mimeTypes.includes(mime))?.[0]
  );
}

// Text never contains NUL bytes unless it is UTF-16, which announces itself with a byte-order mark.
function looksBinary(buffer: Buffer): boolean {
  const utf16Bom = buffer.length >= 2 && ((buffer[0] === 0xff && buffer[1] === 0xfe) || (buffer[0] === 0xfe && buffer[1] === 0xff));
  return !utf16Bom && buffer.subarray(0, BINARY_SNIFF_BYTES).includes(0);
}

function unsupported(fileName: string, hint?: string): AppError {
  return new AppError(
    'unsupported_file_type',
    hint ?? `"${fileName}" is not a supported file type. Upload PDF, Word (.docx), Excel (.xlsx), CSV, Markdown, HTML or plain text.`,
    415,
  );
}

// DOCX and XLSX are zips, and a zip can claim gigabytes from a few kilobytes. Before any parser inflates one,
// read only its central directory (yauzl never decompresses here) and refuse archives whose declared
// uncompressed total or entry count is out of proportion with a real document. Overlapping-entry bombs are
// caught too: every entry declares its own size, so the sum grows with each reuse of the same data.
import yauzl from 'yauzl';
import { AppError, isAppError } from '../../errors.js';

export const MAX_UNCOMPRESSED_BYTES = 100 * 1024 * 1024;
export const MAX_ZIP_ENTRIES = 5000;

/** Entry names of the archive, or null when it is not a readable zip. Throws `file_too_large_uncompressed`. */
export async function inspectZip(buffer: Buffer, fileName: string): Promise<Set<string> | null> {
  let zip: yauzl.ZipFile;
  try {
    zip = await yauzl.fromBufferPromise(buffer, { lazyEntries: true });
  } catch {
    return null;
  }
  try {
    if (zip.entryCount > MAX_ZIP_ENTRIES) throw tooLarge(fileName, { entryCount: zip.entryCount });
    const names = new Set<string>();
    let total = 0;
    for await (const entry of zip.eachEntry()) {
      total += entry.uncompressedSize;
      if (total > MAX_UNCOMPRESSED_BYTES) throw tooLarge(fileName, { uncompressedBytesAtLeast: total });
      names.add(entry.fileName);
    }
    return names;
  } catch (err) {
    if (isAppError(err)) throw err;
    return null;
  } finally {
    zip.close();
  }
}

const tooLarge = (fileName: string, details: Record<string, unknown>) =>
  new AppError(
    'file_too_large_uncompressed',
    `"${fileName}" expands to more than ${MAX_UNCOMPRESSED_BYTES / 1024 / 1024} MB or ${MAX_ZIP_ENTRIES} parts when unpacked.`,
    413,
    { details: { ...details, maxUncompressedBytes: MAX_UNCOMPRESSED_BYTES, maxEntries: MAX_ZIP_ENTRIES } },
  );

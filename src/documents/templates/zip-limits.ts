// .docx and .xlsx files are zips, and a zip can expand a few kilobytes into gigabytes. Before any library
// opens one, the central directory's sizes and entry count are checked; then every entry is inflated once
// with a cap at its declared size, because a crafted file can declare small sizes and still expand.
import { inflateRawSync } from 'node:zlib';
import { AppError } from '../../errors.js';
import { invalidTemplate } from './template-errors.js';

export const ZIP_LIMITS = { bytes: 50 * 1024 * 1024, entries: 2_000 };

const SIG = { local: 0x04034b50, central: 0x02014b50, end: 0x06054b50, end64: 0x06064b50, locator64: 0x07064b50 };
const MAX32 = 0xffffffff;

interface Entry {
  name: string;
  flags: number;
  method: number;
  compressedSize: number;
  size: number;
  localOffset: number;
}

/** Checks `buf` is a zip within ZIP_LIMITS and returns its entry names. `kind` names the file for users. */
export function checkZip(buf: Buffer, kind: string): Set<string> {
  let entries: Entry[];
  try {
    entries = readCentralDirectory(buf);
  } catch (error) {
    if (error instanceof AppError) throw error;
    throw invalidTemplate(`This file is not a valid ${kind} file.`, error);
  }
  for (const entry of entries) verifyEntry(buf, entry, kind);
  return new Set(entries.map((e) => e.name));
}

function tooLarge(detail: string) {
  const limit = `${ZIP_LIMITS.bytes / 1024 / 1024} MB and ${ZIP_LIMITS.entries} files`;
  const message = `This file ${detail}; templates may expand to at most ${limit}.`;
  return new AppError('file_too_large_uncompressed', message, 422);
}

function readCentralDirectory(buf: Buffer): Entry[] {
  const end = findEndOfCentralDirectory(buf);
  let count = buf.readUInt16LE(end + 10);
  let offset = buf.readUInt32LE(end + 16);
  if (count === 0xffff || offset === MAX32) {
    const locator = end - 20;
    if (buf.readUInt32LE(locator) !== SIG.locator64) throw new Error('zip64 locator missing');
    const record = Number(buf.readBigUInt64LE(locator + 8));
    if (buf.readUInt32LE(record) !== SIG.end64) throw new Error('zip64 end record missing');
    count = Number(buf.readBigUInt64LE(record + 32));
    offset = Number(buf.readBigUInt64LE(record + 48));
  }
  if (count > ZIP_LIMITS.entries) throw tooLarge(`holds ${count} files`);

  const entries: Entry[] = [];
  let total = 0;
  for (let i = 0, p = offset; i < count; i++) {
    if (buf.readUInt32LE(p) !== SIG.central) throw new Error('bad central directory entry');
    const nameLength = buf.readUInt16LE(p + 28);
    const extraLength = buf.readUInt16LE(p + 30);
    const entry: Entry = {
      name: buf.toString('utf8', p + 46, p + 46 + nameLength),
      flags: buf.readUInt16LE(p + 8),
      method: buf.readUInt16LE(p + 10),
      compressedSize: buf.readUInt32LE(p + 20),
      size: buf.readUInt32LE(p + 24),
      localOffset: buf.readUInt32LE(p + 42),
    };
    readZip64Sizes(buf.subarray(p + 46 + nameLength, p + 46 + nameLength + extraLength), entry);
    total += entry.size;
    if (total > ZIP_LIMITS.bytes) throw tooLarge(`expands to more than ${ZIP_LIMITS.bytes / 1024 / 1024} MB`);
    entries.push(entry);
    p += 46 + nameLength + extraLength + buf.readUInt16LE(p + 32);
  }
  return entries;
}

function findEndOfCentralDirectory(buf: Buffer): number {
  // The record is 22 bytes plus a comment of up to 64 KB, at the very end of the file.
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 22 - 0xffff); i--) {
    if (buf.readUInt32LE(i) === SIG.end) return i;
  }
  throw new Error('no end of central directory');
}

/** Sizes of 0xFFFFFFFF mean "see the zip64 extra field", which lists only those, in this order. */
function readZip64Sizes(extra: Buffer, entry: Entry) {
  for (let p = 0; p + 4 <= extra.length; p += 4 + extra.readUInt16LE(p + 2)) {
    if (extra.readUInt16LE(p) !== 0x0001) continue;
    let q = p + 4;
    const next = () => Number(extra.readBigUInt64LE((q += 8) - 8));
    if (entry.size === MAX32) entry.size = next();
    if (entry.compressedSize === MAX32) entry.compressedSize = next();
    if (entry.localOffset === MAX32) entry.localOffset = next();
  }
}

function verifyEntry(buf: Buffer, entry: Entry, kind: string) {
  if (entry.flags & 1) throw invalidTemplate(`This ${kind} file is password-protected; upload it without a password.`);
  let data: Buffer;
  try {
    const p = entry.localOffset;
    if (buf.readUInt32LE(p) !== SIG.local) throw new Error('bad local header');
    const start = p + 30 + buf.readUInt16LE(p + 26) + buf.readUInt16LE(p + 28);
    data = buf.subarray(start, start + entry.compressedSize);
    if (data.length !== entry.compressedSize) throw new Error('entry runs past the end of the file');
  } catch (error) {
    throw invalidTemplate(`This file is not a valid ${kind} file.`, error);
  }
  if (entry.method === 0) {
    if (entry.size !== entry.compressedSize) throw invalidTemplate(`This ${kind} file is damaged.`);
    return;
  }
  if (entry.method !== 8) throw invalidTemplate(`This ${kind} file uses an unsupported compression method.`);
  let size: number;
  try {
    size = inflateRawSync(data, { maxOutputLength: Math.max(entry.size, 1) }).length;
  } catch (error) {
    // Node refuses to inflate past maxOutputLength: the entry is bigger than it says.
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ERR_BUFFER_TOO_LARGE') throw tooLarge('expands to more than it declares');
    throw invalidTemplate(`This ${kind} file is damaged.`, error);
  }
  if (size !== entry.size) throw invalidTemplate(`This ${kind} file is damaged.`);
}

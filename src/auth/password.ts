// Passwords: argon2id (OWASP's minimum: 19 MiB memory, 2 iterations, 1 lane) via @node-rs/argon2.
import { Algorithm, hash, verify } from '@node-rs/argon2';
import { unprocessable } from '../errors.js';

const OPTIONS = { algorithm: Algorithm.Argon2id, memoryCost: 19456, timeCost: 2, parallelism: 1 };

export const hashPassword = (password: string) => hash(password, OPTIONS);

export async function verifyPassword(passwordHash: string, password: string): Promise<boolean> {
  try {
    return await verify(passwordHash, password);
  } catch {
    return false;
  }
}

// A hash of a random password, verified against when the account does not exist, so a log-in for an
// unknown email takes as long as one for a known email.
let dummy: Promise<string> | undefined;
export const dummyVerify = async (password: string) => {
  dummy ??= hashPassword('flowspark-timing-equaliser');
  await verifyPassword(await dummy, password);
  return false;
};

const COMMON = new Set(['password', 'password1', 'password123', '12345678', '123456789', 'qwertyuiop', 'letmein123', 'iloveyou1', 'welcome123', 'admin12345']);

/** At least 10 characters with 3 of 4 character classes, or at least 16 characters; not a common one. */
export function assertStrongPassword(password: string, email?: string): void {
  const classes = [/[a-z]/, /[A-Z]/, /[0-9]/, /[^A-Za-z0-9]/].filter((r) => r.test(password)).length;
  const local = email?.split('@')[0]?.toLowerCase();
  const weak =
    password.length < 10 ||
    (password.length < 16 && classes < 3) ||
    COMMON.has(password.toLowerCase()) ||
    (local && local.length >= 4 && password.toLowerCase().includes(local));
  if (weak)
    throw unprocessable(
      'weak_password',
      'Choose a stronger password: at least 10 characters mixing upper case, lower case, digits or symbols (or 16+ characters), not based on your email.',
    );
}

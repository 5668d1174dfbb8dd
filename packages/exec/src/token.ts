/**
 * The agent's shared secret: read from a file at start, compared in constant time. Both sides are
 * hashed first (SHA-256), so the comparison takes the same time whatever the lengths, and
 * `timingSafeEqual` compares equal-length digests.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ExecError } from './errors.js';

/** Largest token file read (a token is a line of text, not a document). */
const MAX_TOKEN_FILE = 4096;

/** Whether `given` equals `expected`, in time independent of where they differ. */
export function tokensEqual(given: string | undefined, expected: string): boolean {
  const a = createHash('sha256')
    .update(given ?? '')
    .digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b) && given !== undefined;
}

/**
 * Reads a token file: its first line, without surrounding whitespace. Throws `ERR_EXEC_TOKEN`
 * when the file cannot be read, is larger than 4 KiB, or holds no token.
 */
export function readTokenFile(path: string): string {
  let text: string;
  try {
    const buf = readFileSync(path);
    if (buf.length > MAX_TOKEN_FILE)
      throw new ExecError('ERR_EXEC_TOKEN', `token file ${path} is ${buf.length} bytes: a token is one line of at most ${MAX_TOKEN_FILE} bytes`);
    text = buf.toString('utf8');
  } catch (err) {
    if (err instanceof ExecError) throw err;
    throw new ExecError('ERR_EXEC_TOKEN', `cannot read token file ${path}: ${(err as Error).message}`, { cause: err });
  }
  const token = (text.split('\n')[0] ?? '').trim();
  if (token === '')
    throw new ExecError(
      'ERR_EXEC_TOKEN',
      `token file ${path} is empty: write the token on its first line (e.g. \`head -c 32 /dev/urandom | base64 > ${path}\`)`,
    );
  return token;
}

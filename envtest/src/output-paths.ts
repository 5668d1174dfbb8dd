/**
 * Output files (--export, --summary) are checked before a run starts, so that a typo in a
 * directory name costs a second, not the whole run.
 */
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { UsageError } from './args.js';

/**
 * Throws a {@link UsageError} (exit code 2) naming `flag` unless `path` can be written: its
 * directory exists, is a directory and is writable, and the path itself, if it exists, is a
 * writable file (or a character device such as /dev/null), not a directory.
 */
export async function checkOutputPath(flag: string, path: string, command?: string): Promise<void> {
  const fail = (why: string): never => {
    throw new UsageError(`--${flag} ${path}: ${why}`, command);
  };
  if (path.trim() === '') fail('the path is empty');
  const full = resolve(path);
  const dir = dirname(full);
  const dirStat = await stat(dir).catch(() => undefined);
  if (!dirStat) fail(`the directory ${dir} does not exist`);
  if (!dirStat!.isDirectory()) fail(`${dir} is not a directory`);
  const fileStat = await stat(full).catch(() => undefined);
  if (fileStat?.isDirectory()) fail('it is a directory');
  try {
    await access(fileStat ? full : dir, constants.W_OK);
  } catch {
    fail(fileStat ? 'the file is not writable' : `the directory ${dir} is not writable`);
  }
}

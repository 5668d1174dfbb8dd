/**
 * The lifecycle of this source's tracefs instance (`instances/<name>`): removing instances left
 * behind by dead processes, creating ours, writing its control files with errors that say which
 * file and what to do, and removing it.
 * @packageDocumentation
 */
import { mkdirSync, readdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { escapeText } from '@vsock-rpc/wire';
import { FtraceError, type FtraceErrorCode } from './errors.js';

/** Default instance names: `vsock-rpc-<pid>[-<n>]`, which makes a dead owner recognisable. */
export const INSTANCE_PREFIX = 'vsock-rpc-';
const OWNED = /^vsock-rpc-(\d+)(?:-\d+)?$/;
const VALID_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$/;

function errnoCode(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException | null)?.code;
}

/** True when `pid` is a live process (EPERM: alive, not ours to signal). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return errnoCode(e) === 'EPERM';
  }
}

/**
 * Removes `vsock-rpc-<pid>` instances whose pid is dead: a tracer that was killed cannot have
 * removed its own. Returns the names removed; `warn` hears of one that cannot be removed.
 */
export function removeStaleInstances(root: string, warn: (m: string) => void): string[] {
  let names: string[];
  try {
    names = readdirSync(`${root}/instances`);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const m = OWNED.exec(name);
    if (!m) continue;
    const pid = Number(m[1]);
    if (pid === process.pid || pidAlive(pid)) continue;
    try {
      rmdirSync(`${root}/instances/${name}`);
      removed.push(name);
    } catch (e) {
      warn(`ftrace: cannot remove the stale instance ${root}/instances/${name} of dead pid ${pid}: ${errnoCode(e) ?? String(e)}`);
    }
  }
  return removed;
}

const namesInUse = new Set<string>();

/**
 * The default instance name: `vsock-rpc-<pid>`, or `vsock-rpc-<pid>-<n>` for a second source
 * open at the same time in this process. Release it with {@link releaseInstanceName}.
 */
export function defaultInstanceName(): string {
  let name = `${INSTANCE_PREFIX}${process.pid}`;
  for (let n = 2; namesInUse.has(name); n++) name = `${INSTANCE_PREFIX}${process.pid}-${n}`;
  return name;
}

/** Marks a name taken (or free again) by a source of this process. */
export function claimInstanceName(name: string): void {
  namesInUse.add(name);
}
export function releaseInstanceName(name: string): void {
  namesInUse.delete(name);
}

/** Validates an instance name (it becomes a directory name). */
export function checkInstanceName(name: string): void {
  if (!VALID_NAME.test(name)) {
    throw new FtraceError('INSTANCE_FAILED', `bad ftrace instance name ${JSON.stringify(escapeText(name))}: use letters, digits, '_', '.', '-' (at most 64)`);
  }
}

/** Creates `instances/<name>`; an existing one is an error (another tracer may own it). */
export function createInstance(root: string, name: string): string {
  const path = `${root}/instances/${name}`;
  const shown = escapeText(path);
  try {
    mkdirSync(path);
  } catch (e) {
    const code = errnoCode(e);
    if (code === 'EEXIST') {
      throw new FtraceError(
        'INSTANCE_FAILED',
        `the ftrace instance ${shown} already exists (another tracer, or a live process, uses it): choose another instance name, or remove it with "rmdir ${shown}" if nobody does`,
        { path, cause: e },
      );
    }
    if (code === 'EPERM' || code === 'EACCES') {
      throw new FtraceError('NOT_ROOT', `cannot create the ftrace instance ${shown} (${code}): run as root, and without kernel lockdown`, { path, cause: e });
    }
    throw new FtraceError('INSTANCE_FAILED', `cannot create the ftrace instance ${shown}: ${code ?? String(e)}`, { path, cause: e });
  }
  return path;
}

/**
 * Writes one tracefs control file; a failure becomes an FtraceError of `code` naming the file.
 * @param what what the write was for, said in the message
 */
export function writeControl(path: string, value: string, code: FtraceErrorCode, what: string): void {
  try {
    writeFileSync(path, value);
  } catch (e) {
    const errno = errnoCode(e);
    throw new FtraceError(code, `ftrace: ${what}: writing ${JSON.stringify(escapeText(value))} to ${escapeText(path)} failed (${errno ?? String(e)})`, {
      path,
      cause: e,
    });
  }
}

/** Removes an instance directory, retrying briefly while the kernel still holds it (EBUSY). */
export async function removeInstance(path: string): Promise<string | undefined> {
  for (let attempt = 0; ; attempt++) {
    try {
      rmdirSync(path);
      return undefined;
    } catch (e) {
      const code = errnoCode(e);
      if (code === 'ENOENT') return undefined;
      if (code !== 'EBUSY' || attempt >= 20) return code ?? String(e);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

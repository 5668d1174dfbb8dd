/**
 * Finding tracefs, mounting it when it is not mounted, and the checks that explain why tracing
 * cannot start (not root, no tracefs, kernel lockdown), each as an {@link FtraceError} naming
 * the path and what to do.
 * @packageDocumentation
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { escapeText } from '@vsock-rpc/wire';
import { FtraceError } from './errors.js';

/** Where tracefs is mounted on current kernels. */
export const DEFAULT_TRACEFS = '/sys/kernel/tracing';
/** The old place, under debugfs. */
const DEBUGFS_TRACING = '/sys/kernel/debug/tracing';

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** True when `dir` looks like a tracefs root (it has `instances/` and `trace_marker`). */
export function isTracefsRoot(dir: string): boolean {
  try {
    return statSync(`${dir}/instances`).isDirectory() && existsSync(`${dir}/trace_marker`);
  } catch {
    return false;
  }
}

/** The tracefs mount points listed in a /proc/mounts text (octal escapes decoded). */
export function tracefsMountsIn(mounts: string): string[] {
  const found: string[] = [];
  for (const line of mounts.split('\n')) {
    const [, dir, type] = line.split(' ');
    if (type === 'tracefs' && dir) found.push(dir.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))));
  }
  return found;
}

/** Throws NOT_ROOT unless the process runs as root (tracefs instances need it). */
export function checkRoot(what: string): void {
  const euid = typeof process.geteuid === 'function' ? process.geteuid() : 0;
  if (euid !== 0) {
    throw new FtraceError(
      'NOT_ROOT',
      `ftrace needs root: creating a tracefs instance under ${what} is not allowed for uid ${euid}; run as root (e.g. with sudo)`,
      {
        path: what,
      },
    );
  }
}

/** Throws LOCKDOWN when the kernel's lockdown mode forbids tracefs (confidentiality). */
export function checkLockdown(lockdownFile = '/sys/kernel/security/lockdown'): void {
  const text = readText(lockdownFile);
  if (text?.includes('[confidentiality]')) {
    throw new FtraceError(
      'LOCKDOWN',
      `the kernel is locked down (${lockdownFile}: confidentiality), which forbids tracefs; boot without lockdown=confidentiality to use ftrace`,
      { path: lockdownFile },
    );
  }
}

function mount(dir: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile('mount', ['-t', 'tracefs', 'nodev', dir], { timeout: 10_000 }, (err, _stdout, stderr) => {
      resolve(err ? String(stderr).trim() || err.message : undefined);
    });
  });
}

/**
 * The tracefs root to use. An explicit `dir` must already be a tracefs mount (it is not mounted
 * over); otherwise the mount listed in /proc/mounts, else /sys/kernel/tracing, mounted here if
 * it is not (via `mount(8)`: node has no mount syscall).
 * @throws FtraceError NO_TRACEFS naming the path and why
 */
export async function locateTracefs(dir?: string): Promise<{ root: string; mountedHere: boolean }> {
  if (dir !== undefined) {
    if (isTracefsRoot(dir)) return { root: dir, mountedHere: false };
    throw new FtraceError(
      'NO_TRACEFS',
      `${escapeText(dir)} is not a tracefs mount (no ${escapeText(dir)}/instances or trace_marker): mount it with "mount -t tracefs nodev ${escapeText(dir)}", or leave the tracefs option out to use ${DEFAULT_TRACEFS}`,
      { path: dir },
    );
  }
  const mounted = tracefsMountsIn(readText('/proc/mounts') ?? '');
  for (const m of [DEFAULT_TRACEFS, ...mounted]) if (mounted.includes(m) && isTracefsRoot(m)) return { root: m, mountedHere: false };
  if (isTracefsRoot(DEFAULT_TRACEFS)) return { root: DEFAULT_TRACEFS, mountedHere: false };
  if (isTracefsRoot(DEBUGFS_TRACING)) return { root: DEBUGFS_TRACING, mountedHere: false };
  const filesystems = readText('/proc/filesystems');
  if (filesystems !== undefined && !/\btracefs\b/.test(filesystems)) {
    throw new FtraceError('NO_TRACEFS', `this kernel has no tracefs (not in /proc/filesystems): it needs CONFIG_TRACING / CONFIG_EVENT_TRACING`, {
      path: '/proc/filesystems',
    });
  }
  if (!existsSync(DEFAULT_TRACEFS)) {
    throw new FtraceError(
      'NO_TRACEFS',
      `tracefs is not mounted and ${DEFAULT_TRACEFS} does not exist (is sysfs mounted on /sys?): mount tracefs and pass its path as the tracefs option`,
      {
        path: DEFAULT_TRACEFS,
      },
    );
  }
  const failure = await mount(DEFAULT_TRACEFS);
  if (failure !== undefined || !isTracefsRoot(DEFAULT_TRACEFS)) {
    throw new FtraceError(
      'NO_TRACEFS',
      `tracefs is not mounted and "mount -t tracefs nodev ${DEFAULT_TRACEFS}" failed${failure ? `: ${escapeText(failure)}` : ''}; mount it yourself and pass its path as the tracefs option`,
      { path: DEFAULT_TRACEFS },
    );
  }
  return { root: DEFAULT_TRACEFS, mountedHere: true };
}

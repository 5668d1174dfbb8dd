/**
 * Loads the C addon (build/Release/vsock.node) lazily, so that importing the
 * package for addresses, unix, tcp or hybrid transports works even where the
 * addon is missing (another OS, a failed build): only AF_VSOCK calls need it.
 * Inside a single executable (envtest's `npm run dist`) it is the SEA asset `vsock.node` instead.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VsockAddonError } from './errors.js';

/** A vsock address as the addon reports it. */
export interface NativeAddress {
  cid: number;
  port: number;
}

/** Opaque libuv poll watch owned by the addon. */
export type NativeWatch = { readonly __nativeWatch: unique symbol };

/** Error objects thrown or passed by the addon carry these fields. */
export interface NativeErrnoError extends Error {
  code: string;
  errno: number;
  syscall: string;
}

/** The addon's exports (see native/vsock.c). All fds are non-blocking and close-on-exec. */
export interface NativeBinding {
  socket(): number;
  bind(fd: number, cid: number, port: number): void;
  listen(fd: number, backlog: number): void;
  getsockname(fd: number): NativeAddress;
  getpeername(fd: number): NativeAddress;
  getLocalCid(): number;
  getBufferSize(fd: number): number;
  setBufferSize(fd: number, bytes: number): void;
  shutdown(fd: number, how: 0 | 1 | 2): void;
  close(fd: number): void;
  socketpair(): [number, number];
  /**
   * `cb(null, fd, ...)` must call {@link NativeBinding.watchClaim} first, then own the fd (wrap or
   * close it); an unclaimed fd (e.g. the env was terminating) is closed by the addon.
   */
  watchAccept(fd: number, cb: (err: NativeErrnoError | null, fd?: number, cid?: number, port?: number) => void): NativeWatch;
  /** Takes the fd of the accept being delivered (see watchAccept). */
  watchClaim(w: NativeWatch): void;
  connect(fd: number, cid: number, port: number, cb: (err: NativeErrnoError | null) => void): NativeWatch | null;
  watchClose(w: NativeWatch): void;
  watchResume(w: NativeWatch): void;
  watchRef(w: NativeWatch, ref: boolean): void;
}

let binding: NativeBinding | undefined;
let loadError: unknown;

/**
 * In a Node single executable application that carries the addon as its asset `vsock.node`: the
 * addon, written to a private temp dir, dlopen()ed and unlinked at once. Otherwise undefined.
 */
function fromSea(require: NodeJS.Require): NativeBinding | undefined {
  let bytes: ArrayBuffer;
  try {
    const sea = require('node:sea') as typeof import('node:sea'); // Node >= 20.12
    if (!sea.isSea()) return undefined;
    bytes = sea.getAsset('vsock.node');
  } catch {
    return undefined; // an older Node, or a single executable without the asset: use the file
  }
  const dir = mkdtempSync(join(tmpdir(), 'vsock-rpc-addon-'));
  try {
    const file = join(dir, 'vsock.node');
    writeFileSync(file, new Uint8Array(bytes), { mode: 0o700 });
    const module = { exports: {} as NativeBinding };
    process.dlopen(module, file);
    return module.exports;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The addon, loaded on first use.
 * @throws VsockAddonError when it cannot be loaded, saying how to build it.
 */
export function native(): NativeBinding {
  if (binding) return binding;
  if (loadError === undefined) {
    try {
      const require = createRequire(import.meta.url);
      // dist/native.js and src/native.ts both sit one level below the package root.
      binding = fromSea(require) ?? (require('../build/Release/vsock.node') as NativeBinding);
      return binding;
    } catch (err) {
      loadError = err;
    }
  }
  throw new VsockAddonError(loadError);
}

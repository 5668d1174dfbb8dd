// The IPC between the orchestrating parent (runner/pair.ts) and a peer process (main.ts): its
// messages, and the shape of a peer module (not the vsock-rpc wire protocol, PROTOCOL.md).
// JSON serialisation is enough: results are plain numbers, strings and arrays.

export type PeerRoleName = 'server' | 'client';

export type ToPeer =
  | {
      readonly type: 'start';
      readonly impl: string;
      readonly role: PeerRoleName;
      readonly socketPath: string;
      readonly tmpDir: string;
      readonly params: Readonly<Record<string, unknown>>;
    }
  | { readonly type: 'stop' };

export type FromPeer =
  | { readonly type: 'ready' }
  | { readonly type: 'result'; readonly result: unknown }
  | { readonly type: 'error'; readonly message: string; readonly stack?: string };

/** What a role function receives inside the peer process. */
export interface PeerContext<P = unknown> {
  readonly socketPath: string;
  readonly tmpDir: string;
  readonly params: P;
  /** servers call this once they accept connections; the parent forks the client only then */
  ready(): void;
  /** resolves when the parent asks the peer to stop (sent after the client's result) */
  readonly stopped: Promise<void>;
}

/** A peer implementation: one module per baseline (or vsock-rpc variant), both roles in it.
 *  Method syntax on purpose: it lets each module declare its own typed params. */
export interface PeerModule {
  server(ctx: PeerContext<unknown>): Promise<unknown>;
  client(ctx: PeerContext<unknown>): Promise<unknown>;
}

/**
 * The wire contract of vsexec: one `bidi` stream per session and two calls that steer it.
 *
 * - stream `session` (bidi): the host's first message is `open` (argv, env, cwd, tty, timeout,
 *   token); every later one is a `stdin` chunk, and the host's END is stdin's EOF. The agent
 *   answers `started` (its session id and the child's pid), then `stdout` / `stderr` chunks as the
 *   child writes them, and last `exit`, with END. Credit is per stream (PROTOCOL.md §11), so a
 *   host that stops reading stops the child at its pipe, and nothing else.
 * - calls `signal` and `resize`: steering travels as calls, not on the stream, so that ctrl-C
 *   still gets through when the stream's credit is used up by stdin the child is not reading.
 *
 * TYPE_ ids 0x7100–0x710F (the trace registry has 0x7000–0x70FF).
 */
import { Type, type Static } from '@sinclair/typebox';
import { defineRegistry } from '@vsock-rpc/wire';

/** Largest single argument or environment entry (bytes of UTF-8 text): Linux's MAX_ARG_STRLEN. */
export const MAX_ARG_LENGTH = 131_072;
/** Most arguments a session may carry. */
export const MAX_ARGS = 4096;
/** Most environment entries a session may add. */
export const MAX_ENV = 1024;
/** Largest output or stdin chunk on the stream: well under the default 256 KiB stream window. */
export const MAX_CHUNK = 65_536;

/** A signal name as `kill(1)` spells it (`SIGINT`, `SIGTERM`…). */
export const SignalName = Type.String({ pattern: '^SIG[A-Z0-9]{2,10}$', maxLength: 13 });

/** A terminal's size, in character cells. */
export const WindowSize = Type.Object({
  cols: Type.Integer({ minimum: 1, maximum: 65_535 }),
  rows: Type.Integer({ minimum: 1, maximum: 65_535 }),
});
export type WindowSize = Static<typeof WindowSize>;

/** What the host asks for when it opens a session. */
export const OpenRequest = Type.Object({
  /** The program and its arguments (no shell: `['sh', '-c', '…']` for one). */
  argv: Type.Array(Type.String({ maxLength: MAX_ARG_LENGTH }), { minItems: 1, maxItems: MAX_ARGS }),
  /** `NAME=value` entries added to (or replacing in) the agent's environment. */
  env: Type.Array(Type.String({ maxLength: MAX_ARG_LENGTH, pattern: '^[^=]+=' }), { maxItems: MAX_ENV }),
  /** Working directory of the child; the agent's own when absent. */
  cwd: Type.Optional(Type.String({ minLength: 1, maxLength: 4096 })),
  /** Ask for a pseudo-terminal of this size, with this `TERM`. */
  tty: Type.Optional(Type.Object({ size: WindowSize, term: Type.String({ maxLength: 64 }) })),
  /** Kill the child's process group after this many ms (exit `timedOut`). */
  timeoutMs: Type.Optional(Type.Integer({ minimum: 1, maximum: 2_147_483_647 })),
  /** The shared secret, when the agent requires one. */
  token: Type.Optional(Type.String({ maxLength: 4096 })),
});
export type OpenRequest = Static<typeof OpenRequest>;

/** How a session ended. Exactly one of `code` and `signal` is set, unless the child never ran (`error`). */
export const ExitStatus = Type.Object({
  /** The child's exit code (0–255). */
  code: Type.Optional(Type.Integer({ minimum: 0, maximum: 255 })),
  /** The signal that killed the child (`SIGKILL`…). */
  signal: Type.Optional(SignalName),
  /** The agent killed the process group because the session's `timeoutMs` passed. */
  timedOut: Type.Boolean(),
  /** Why the child could not be started (then `code` is 127, as a shell says). */
  error: Type.Optional(Type.String({ maxLength: 4096 })),
  /** Bytes of stdin the agent received after the child had closed its stdin (counted, then dropped). */
  stdinDiscarded: Type.Integer({ minimum: 0 }),
});
export type ExitStatus = Static<typeof ExitStatus>;

/** A message from the host on the session stream. */
export const SessionInput = Type.Union([
  Type.Object({ kind: Type.Literal('open'), open: OpenRequest }),
  Type.Object({ kind: Type.Literal('stdin'), data: Type.Uint8Array({ maxByteLength: MAX_CHUNK }) }),
]);
export type SessionInput = Static<typeof SessionInput>;

/** A message from the agent on the session stream. */
export const SessionOutput = Type.Union([
  Type.Object({ kind: Type.Literal('started'), session: Type.Integer({ minimum: 1 }), pid: Type.Integer({ minimum: 1 }) }),
  Type.Object({ kind: Type.Literal('stdout'), data: Type.Uint8Array({ maxByteLength: MAX_CHUNK }) }),
  Type.Object({ kind: Type.Literal('stderr'), data: Type.Uint8Array({ maxByteLength: MAX_CHUNK }) }),
  Type.Object({ kind: Type.Literal('exit'), status: ExitStatus }),
]);
export type SessionOutput = Static<typeof SessionOutput>;

/**
 * The vsexec registry. Both ends must use this one (the HELLO compares fingerprints): a host and a
 * guest with different vsexec versions whose registries differ refuse each other at connect.
 */
export const execRegistry = defineRegistry({
  methods: {
    /** Send a signal to a session's process group (ctrl-C on the host is `SIGINT`). */
    signal: {
      id: 0x7101,
      request: Type.Object({ session: Type.Integer({ minimum: 1 }), signal: SignalName }),
      response: Type.Object({ delivered: Type.Boolean() }),
    },
    /** Resize a session's pseudo-terminal (the host's SIGWINCH). */
    resize: {
      id: 0x7102,
      request: Type.Object({ session: Type.Integer({ minimum: 1 }), size: WindowSize }),
      response: Type.Object({ resized: Type.Boolean() }),
    },
  },
  streams: {
    session: { id: 0x7100, mode: 'bidi', request: SessionInput, response: SessionOutput },
  },
});
/** The type of {@link execRegistry}. */
export type ExecRegistry = typeof execRegistry;

/** The default vsock port of the agent (the seed's socat listened on 1234). */
export const DEFAULT_PORT = 1234;

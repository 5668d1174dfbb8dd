/**
 * The agent (`vsexec agent`): a ServerEngine serving the exec registry. Each `session` stream
 * runs one command (session.ts); `signal` and `resize` steer a session of the same connection.
 * Many sessions run at once, each with its own stream credit, up to `maxSessions`.
 */
import {
  RpcError,
  ServerEngine,
  formatAddress,
  toAddress,
  type Logger,
  type PeerContext,
  type ServerEngineOptions,
  type TransportAddress,
} from '@vsock-rpc/engine';
import { escapeText } from '@vsock-rpc/wire';
import type { SessionChild } from './child.js';
import { IDLE_TIMEOUT_MS } from './connection-defaults.js';
import { isSignalName } from './exit-status.js';
import { DEFAULT_ALLOW_CIDS, engineAllowlist, type CidAllowlist } from './peer-policy.js';
import { execRegistry, type ExecRegistry } from './registry.js';
import { runSession, type SessionHost } from './session.js';
import type { AgentLog } from './session-log.js';

/** Options of {@link ExecAgent.listen}. */
export interface ExecAgentOptions {
  /** vsock CIDs allowed to open sessions on a vsock listener (default `[2]`: the host only), or `'any'`. */
  readonly allowCids?: CidAllowlist;
  /** Require this token in every session's `open` (compared in constant time). */
  readonly token?: string;
  /** Sessions running at once, over all connections (default 256); more are refused with RESOURCE_EXHAUSTED. */
  readonly maxSessions?: number;
  /** The environment commands start with, before a session's own `env` (default `process.env`). */
  readonly env?: NodeJS.ProcessEnv;
  /** One line per session start, end and refusal (default: stderr with a `vsexec agent:` prefix); `null` silences. */
  readonly log?: AgentLog | null;
  /** Further ServerEngine options (keepalive, budget, maxConnections…); registry and allowlist are the agent's. */
  readonly engine?: Omit<ServerEngineOptions<ExecRegistry>, 'registry' | 'allowCids' | 'requireCid'>;
}

/** Counters of an agent. */
export interface ExecAgentStats {
  /** Sessions running now. */
  readonly running: number;
  /** Sessions started since the agent started. */
  readonly started: number;
  /** Sessions refused (token, peer, limit). */
  readonly refused: number;
  /** Connections refused by the CID allowlist. */
  readonly peersRefused: number;
}

interface Running {
  readonly connectionId: number;
  readonly child: () => SessionChild | undefined;
}

const defaultLog: AgentLog = (line) => process.stderr.write(`vsexec agent: ${line}\n`);

/** A running vsexec agent. */
export class ExecAgent {
  readonly #server: ServerEngine<ExecRegistry>;
  readonly #sessions = new Map<number, Running>();
  #nextId = 1;
  #started = 0;
  #refused = 0;
  #peersRefused = 0;

  private constructor(server: ServerEngine<ExecRegistry>) {
    this.#server = server;
  }

  /**
   * Listens on `address` (`vsock://any:1234` in a guest; unix/tcp/hybrid for tests and other
   * setups) and serves sessions until {@link close}.
   */
  static async listen(address: TransportAddress | string, options: ExecAgentOptions = {}): Promise<ExecAgent> {
    const listenAt = toAddress(address);
    const allowCids = options.allowCids ?? DEFAULT_ALLOW_CIDS;
    const log = options.log === null ? () => {} : (options.log ?? defaultLog);
    const logger: Logger = { warn: (m) => log(m) };
    const server = await ServerEngine.listen(listenAt, {
      logger,
      idleTimeoutMs: IDLE_TIMEOUT_MS * (options.engine?.timeoutScale ?? 1),
      ...options.engine,
      registry: execRegistry,
      ...engineAllowlist(listenAt, allowCids),
    });
    const agent = new ExecAgent(server);
    server.on('peerRejected', () => agent.#peersRefused++);
    const maxSessions = options.maxSessions ?? 256;
    const host: SessionHost = {
      token: options.token,
      allowCids,
      baseEnv: options.env ?? process.env,
      log,
      admit: (connectionId, child) => {
        if (agent.#sessions.size >= maxSessions) return undefined;
        const id = agent.#nextId++;
        agent.#sessions.set(id, { connectionId, child });
        agent.#started++;
        return id;
      },
      release: (id) => agent.#sessions.delete(id),
      refused: () => agent.#refused++,
    };
    server.handleStream('session', (requests, stream) => runSession(requests, stream, host));
    server.handle('signal', (req, ctx) => {
      if (!isSignalName(req.signal)) throw new RpcError('INVALID_ARGUMENT', `unknown signal ${escapeText(req.signal)}`);
      const child = agent.#childOf(req.session, ctx);
      return { delivered: child.signalGroup(req.signal) };
    });
    server.handle('resize', (req, ctx) => ({ resized: agent.#childOf(req.session, ctx).resize(req.size) }));
    log(`listening on ${formatAddress(server.address)}; ${describePolicy(listenAt, allowCids, options.token !== undefined)}`);
    return agent;
  }

  /** The address the agent listens on (with the real port when it listened on port 0). */
  get address(): TransportAddress {
    return this.#server.address;
  }

  /** Its counters. */
  stats(): ExecAgentStats {
    return { running: this.#sessions.size, started: this.#started, refused: this.#refused, peersRefused: this.#peersRefused };
  }

  /**
   * Stops accepting, then closes every connection within `timeoutMs` (default 2000): sessions
   * still running lose their host and their process groups are killed.
   */
  async close(timeoutMs = 2000): Promise<void> {
    await this.#server.close(timeoutMs);
  }

  /** The child of session `id`, if it belongs to the caller's connection (else NOT_FOUND). */
  #childOf(id: number, ctx: PeerContext): SessionChild {
    const s = this.#sessions.get(id);
    const child = s && s.connectionId === ctx.connectionId ? s.child() : undefined;
    if (!child) throw new RpcError('NOT_FOUND', `no running session ${id} on this connection`);
    return child;
  }
}

function describePolicy(listen: TransportAddress, allow: CidAllowlist, token: boolean): string {
  const who =
    listen.transport === 'vsock'
      ? allow === 'any'
        ? 'any CID may connect (--allow-cid any)'
        : `vsock CIDs allowed: ${allow.join(', ')}`
      : `a ${listen.transport} listener: the socket's own access rules decide who connects`;
  return `${who}; ${token ? 'a token is required' : 'no token required (--token-file to require one)'}`;
}

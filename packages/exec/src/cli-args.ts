/**
 * The command lines of `vsexec agent` and `vsexec run`. Options come first; the command starts
 * at `--` or at the first word that is not an option, so `vsexec run ls -l` and
 * `vsexec run -- ls -l` both run `ls -l`.
 */
import { parseAddress, type TransportAddress } from '@vsock-rpc/engine';
import { usageError } from './errors.js';
import { DEFAULT_ALLOW_CIDS, parseCidList, type CidAllowlist } from './peer-policy.js';
import { DEFAULT_PORT } from './registry.js';

/** `vsexec agent`'s default address: every CID of the guest, port 1234 (the seed's port). */
export const DEFAULT_LISTEN = `vsock://any:${DEFAULT_PORT}`;
/** `vsexec run`'s default address: the guest CID 3 (the seed's `cid=3`), port 1234. */
export const DEFAULT_CONNECT = `vsock://3:${DEFAULT_PORT}`;

/** Parsed `vsexec agent` options. */
export interface AgentArgs {
  readonly listen: TransportAddress;
  readonly allowCids: CidAllowlist;
  readonly tokenFile: string | undefined;
  readonly maxSessions: number;
  readonly quiet: boolean;
  readonly timeoutScale: number;
}

/** Parsed `vsexec run` options. */
export interface RunArgs {
  readonly connect: TransportAddress;
  readonly tty: boolean;
  readonly noStdin: boolean;
  readonly env: string[];
  readonly cwd: string | undefined;
  readonly timeoutSeconds: number | undefined;
  readonly tokenFile: string | undefined;
  readonly timeoutScale: number;
  readonly argv: string[];
}

/** Takes the value of option `name` at argv[i + 1]. */
function valueOf(argv: readonly string[], i: number, name: string): string {
  const v = argv[i + 1];
  if (v === undefined) throw usageError(`${name} needs a value`);
  return v;
}

function address(text: string, name: string): TransportAddress {
  try {
    return parseAddress(text);
  } catch (err) {
    throw usageError(`${name}: ${(err as Error).message}`);
  }
}

/** Parses `vsexec agent [--listen ADDR] [--allow-cid LIST] [--token-file F] [--max-sessions N] [--quiet]`. */
export function parseAgentArgs(argv: readonly string[]): AgentArgs {
  let listen = address(DEFAULT_LISTEN, '--listen');
  let allowCids: CidAllowlist = DEFAULT_ALLOW_CIDS;
  let tokenFile: string | undefined;
  let maxSessions = 256;
  let quiet = false;
  let timeoutScale = 1;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--listen') listen = address(valueOf(argv, i++, a), a);
    else if (a === '--allow-cid') allowCids = parseCidList(valueOf(argv, i++, a));
    else if (a === '--token-file') tokenFile = valueOf(argv, i++, a);
    else if (a === '--max-sessions') maxSessions = positiveInt(valueOf(argv, i++, a), a);
    else if (a === '--quiet') quiet = true;
    else if (a === '--timeout-scale') timeoutScale = scale(valueOf(argv, i++, a));
    else throw usageError(`vsexec agent: unknown option ${JSON.stringify(a)} (see vsexec --help)`);
  }
  return { listen, allowCids, tokenFile, maxSessions, quiet, timeoutScale };
}

/** Parses `vsexec run [--connect ADDR] [-t] [-n] [-e K=V]… [--cwd DIR] [--timeout S] [--token-file F] [--] CMD ARGS…`. */
export function parseRunArgs(argv: readonly string[]): RunArgs {
  let connect = address(DEFAULT_CONNECT, '--connect');
  let tty = false;
  let noStdin = false;
  const env: string[] = [];
  let cwd: string | undefined;
  let timeoutSeconds: number | undefined;
  let tokenFile: string | undefined;
  let timeoutScale = 1;
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      i++;
      break;
    }
    if (!a.startsWith('-')) break;
    if (a === '--connect' || a === '-c') connect = address(valueOf(argv, i++, a), a);
    else if (a === '-t' || a === '--tty') tty = true;
    else if (a === '-n' || a === '--no-stdin') noStdin = true;
    else if (a === '-e' || a === '--env') {
      const kv = valueOf(argv, i++, a);
      if (!/^[^=]+=/.test(kv)) throw usageError(`${a} ${JSON.stringify(kv)}: give NAME=value`);
      env.push(kv);
    } else if (a === '--cwd') cwd = valueOf(argv, i++, a);
    else if (a === '--timeout') {
      const s = Number(valueOf(argv, i++, a));
      if (!Number.isFinite(s) || s <= 0 || s > 2_147_483) throw usageError(`--timeout: give seconds, a number above 0 (e.g. 1 or 0.5)`);
      timeoutSeconds = s;
    } else if (a === '--token-file') tokenFile = valueOf(argv, i++, a);
    else if (a === '--timeout-scale') timeoutScale = scale(valueOf(argv, i++, a));
    else throw usageError(`vsexec run: unknown option ${JSON.stringify(a)} (put the command after --)`);
  }
  const command = argv.slice(i);
  if (command.length === 0) throw usageError('vsexec run: no command given: vsexec run [options] -- CMD ARGS…');
  return { connect, tty, noStdin, env, cwd, timeoutSeconds, tokenFile, timeoutScale, argv: command };
}

function scale(text: string): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n < 1 || n > 1000)
    throw usageError('--timeout-scale: give a number from 1 to 1000 (multiplies the connection time limits: handshake, keepalive, idle)');
  return n;
}

function positiveInt(text: string, name: string): number {
  if (!/^\d{1,9}$/.test(text) || Number(text) < 1) throw usageError(`${name}: give a whole number above 0`);
  return Number(text);
}

/** `vsexec --help`. */
export const HELP = `Usage:
  vsexec agent [--listen ADDR] [--allow-cid LIST] [--token-file F] [--max-sessions N] [--quiet] [--timeout-scale N]
  vsexec run [--connect ADDR] [-t] [-n] [-e NAME=VALUE]… [--cwd DIR] [--timeout S] [--token-file F] [--timeout-scale N] -- CMD ARGS…

Run commands inside a VM from its host over vsock. The agent runs in the guest; run on the host.

agent (in the guest):
  --listen ADDR      where to listen (default ${DEFAULT_LISTEN})
  --allow-cid LIST   vsock CIDs allowed to connect: 2,3 / host / local / any (default: 2, the host)
  --token-file F     require the token on the first line of F
  --max-sessions N   sessions at once (default 256)
  --quiet            no log lines
  --timeout-scale N  multiply the connection time limits (a slow or emulated guest)

run (on the host):
  --connect ADDR     the agent: vsock://CID:PORT or hybrid:///path/to/vmm.vsock:PORT
                     (Firecracker / Cloud Hypervisor; default ${DEFAULT_CONNECT})
  -t, --tty          a pseudo-terminal (window size forwarded)
  -n, --no-stdin     do not read stdin (the command gets EOF)
  -e NAME=VALUE      set a remote environment variable (repeatable)
  --cwd DIR          remote working directory
  --timeout S        kill the remote process group after S seconds (exit 124)
  --token-file F     the agent's token
  --timeout-scale N  multiply the connection time limits (handshake, keepalive, idle)

Exit status of run: the command's own; 128+N when it died of signal N; 124 on --timeout;
127 when it could not be started; 255 when vsexec itself failed (unreachable, refused); 2 on usage.
ADDR may also be unix:///path or tcp://host:port.
`;

/**
 * The adversarial suite: one shared `envtest server` attacked in sequence (restarted only for the
 * server-restart attack), with the table written at the end.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bombs } from './attacks/bombs.js';
import { checkForgedSummary, forged } from './attacks/forged.js';
import { floods } from './attacks/floods.js';
import { fuzz } from './attacks/fuzz.js';
import { kill9Clients } from './attacks/kill9-clients.js';
import { labelFlood } from './attacks/label-flood.js';
import { logInjection } from './attacks/log-injection.js';
import { poison } from './attacks/poison.js';
import { runRestartAttack } from './attacks/restarts.js';
import { slow } from './attacks/slow.js';
import { specCases } from './attacks/spec-cases.js';
import { storms } from './attacks/storms.js';
import { runAttack } from './harness/run-attack.js';
import { ServerProcess, freePort, serverHelp } from './harness/server.js';
import type { Attack, AttackEnv, ResultRow } from './harness/types.js';
import { RawPeer } from './lib/peer.js';
import { markdownReport } from './report.js';

export const FULL = process.env.VSOCK_RPC_ADVERSARIAL_FULL === '1';
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The attacks run against the shared server, in order (forged accounting last: it needs the stop summary). */
export const SHARED_ATTACKS: { id: number; name: string; attack: Attack }[] = [
  { id: 1, name: 'msgpack bombs in every frame kind', attack: bombs },
  { id: 2, name: 'fuzz: mutated and random frames', attack: fuzz },
  { id: 3, name: 'slow and partial frames', attack: slow },
  { id: 4, name: 'reply floods, never reading', attack: floods },
  { id: 5, name: 'timeline poisoning (future ts)', attack: poison },
  { id: 6, name: 'connection storms', attack: storms },
  { id: 7, name: 'kill -9 of clients mid-stream', attack: kill9Clients },
  { id: 8, name: 'metric-label flood', attack: labelFlood },
  { id: 10, name: 'log injection in peer names', attack: logInjection },
  { id: 11, name: 'spec cases (GOAWAY, unsolicited answers, reserved ids)', attack: specCases },
  { id: 9, name: 'forged accounting', attack: forged },
];

/** Deadline flags the server CLI may have grown (issue 11): used only if `server --help` lists them. */
export function deadlineFlags(): { flags: string[]; found: string[]; handshakeMs: number; idleMs: number } {
  const help = serverHelp();
  const found = [...new Set([...help.matchAll(/(--[\w-]*(?:handshake|idle|frame-timeout|min-frame-rate)[\w-]*)/g)].map((m) => m[1]!))];
  const dflt = (flag: string, fallback: number) => Number(new RegExp(`${flag} MS .*default (\\d+)`).exec(help)?.[1] ?? fallback);
  // §5: 10 s SHOULD; §2: idle 15 s (the reference). The short run shortens them when the CLI allows.
  let handshakeMs = dflt('--handshake-timeout-ms', 10_000);
  let idleMs = dflt('--idle-timeout-ms', 15_000);
  const flags: string[] = [];
  if (!FULL && found.includes('--handshake-timeout-ms') && found.includes('--idle-timeout-ms') && found.includes('--frame-timeout-ms')) {
    handshakeMs = 2000;
    idleMs = 4000;
    flags.push('--handshake-timeout-ms', String(handshakeMs), '--idle-timeout-ms', String(idleMs), '--frame-timeout-ms', '2000');
  }
  return { flags, found, handshakeMs, idleMs };
}

export const log = (line: string) => process.stderr.write(`adversarial: ${line}\n`);

export class Suite {
  readonly rows: ResultRow[] = [];
  readonly dir = mkdtempSync(path.join(os.tmpdir(), 'envtest-adversarial-'));
  readonly deadline = deadlineFlags();
  server!: ServerProcess;
  env!: AttackEnv;
  finalSummary?: Record<string, any>;

  async start(): Promise<void> {
    const port = await freePort();
    this.server = new ServerProcess({ dir: this.dir, port, extra: this.deadline.flags });
    await this.server.ready();
    const probe = await RawPeer.connect(port, '127.0.0.1');
    const hello = await probe.serverHello();
    probe.destroy();
    this.env = {
      server: this.server,
      port,
      full: FULL,
      maxFrame: hello.maxFrame,
      dir: this.dir,
      log,
      deadlines: { handshakeMs: this.deadline.handshakeMs, idleMs: this.deadline.idleMs },
    };
    log(`server pid ${this.server.pid} on tcp://127.0.0.1:${port}, maxFrame ${hello.maxFrame}, ${FULL ? 'FULL' : 'short'} run, scratch ${this.dir}`);
    log(`server deadline flags in --help: ${this.deadline.found.join(' ') || 'none'}; passed: ${this.deadline.flags.join(' ') || 'none'}`);
  }

  async run(id: number): Promise<ResultRow> {
    const a = SHARED_ATTACKS.find((x) => x.id === id)!;
    const row = await runAttack(this.env, a.id, a.name, a.attack, {
      observerCount: FULL ? 2000 : 300,
      observerRate: FULL ? 200 : 100,
      settleMs: FULL ? 3000 : 1500,
    });
    if (id === 9) {
      // The summary exists once the server stops: stop it now and check the forged claims in it.
      this.finalSummary = await this.server.stop();
      const check = checkForgedSummary(this.finalSummary);
      row.failures.push(...check.failures);
      row.notes.push(...check.notes);
      if (this.server.exitCode !== 0) row.failures.push(`server exit code ${this.server.exitCode} on SIGTERM`);
      row.pass = row.failures.length === 0;
      log(`[9] after stop: ${row.pass ? 'PASS' : 'FAIL'}${check.failures.length ? `\n    ${check.failures.join('\n    ')}` : ''}`);
    }
    this.rows.push(row);
    return row;
  }

  async runRestart(): Promise<ResultRow> {
    const row = await runRestartAttack(12, this.dir, this.deadline.flags, log);
    this.rows.push(row);
    return row;
  }

  /** Writes the table: results/REPORT.md for the full run, test-results/ for the short one. */
  writeReport(): string {
    const rows = [...this.rows].sort((a, b) => a.id - b.id);
    const md = markdownReport(rows, `Adversarial suite (issue 11): ${FULL ? 'full' : 'short'} run`, [
      `${new Date().toISOString()}, node ${process.version}, ${os.cpus().length} CPUs. Server: \`envtest server --listen tcp://127.0.0.1:PORT --quiet --rate 50 --export … --summary … --metrics 127.0.0.1:0\`.`,
      `Attackers connect from 127.0.0.2–9, good peers from 127.0.0.1. Server deadline flags found in --help: ${this.deadline.found.join(' ') || 'none'}; passed: ${this.deadline.flags.join(' ') || 'none (defaults)'}.`,
      "RSS from /proc/PID/status (VmHWM peak since start; growth = VmRSS after the attack settled − before). Observer = a real `envtest client`; received = its events in the server's JSONL export (a late event is written there too, marked late; late = the server's count).",
    ]);
    const file = FULL ? path.join(ROOT, 'test/adversarial/results/REPORT.md') : path.join(ROOT, 'test-results/adversarial-short.md');
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, md);
    process.stdout.write(`\n${md}\n(written to ${file})\n`);
    return file;
  }

  async stop(): Promise<void> {
    if (this.server && this.server.exitCode === undefined) this.finalSummary = await this.server.stop();
  }
}

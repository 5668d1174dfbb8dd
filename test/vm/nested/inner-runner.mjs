// Runs inside the OUTER guest (started by runNested in harness-nested.ts, plain JS because the guest
// runs the host's node as is, without a TypeScript loader). It boots the inner guest that
// VSOCK_RPC_NESTED_JOB describes (a plan made by guestPlan() on the host), runs the "host side"
// commands next to it, and writes everything the host needs to $VM_RESULTS_DIR/nested.json.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** @type {{ shareDir: string; files: Record<string, string>; qemu: string; args: string[]; watchdog: string; timeoutMs: number; hostCommands: string[]; hostWaitMs?: number }} */
const job = JSON.parse(process.env.VSOCK_RPC_NESTED_JOB ?? 'null');
if (!job) throw new Error('VSOCK_RPC_NESTED_JOB is not set');
const resultsOut = process.env.VM_RESULTS_DIR;

mkdirSync(join(job.shareDir, 'job'), { recursive: true });
mkdirSync(join(job.shareDir, 'results'), { recursive: true, mode: 0o777 });
for (const [name, text] of Object.entries(job.files)) writeFileSync(join(job.shareDir, name), text);

const log = (line) => process.stdout.write(`@@NESTED ${line}\n`);

// The host side starts first so that it is listening long before the inner guest (about a
// minute of boot under TCG-in-TCG) connects. Their output goes to the outer console as is.
const hosts = job.hostCommands.map((cmd, i) => {
  const child = spawn('/bin/sh', ['-c', cmd], {
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, VM_INNER_RESULTS_DIR: join(job.shareDir, 'results') },
  });
  const entry = { child, code: /** @type {number | null} */ (null) };
  child.on('exit', (code, signal) => {
    entry.code = code ?? 128 + (signal === 'SIGKILL' ? 9 : 15);
    log(`host command ${i} exited ${entry.code}`);
  });
  return entry;
});

const started = Date.now();
log(`booting the inner guest: ${job.args.join(' ')}`);
const inner = spawn('/bin/sh', ['-c', job.watchdog, 'vm-watchdog', job.shareDir, job.qemu, ...job.args], {
  stdio: ['pipe', 'pipe', 'pipe'],
});
let consoleText = '';
let partial = '';
const onData = (b) => {
  const text = b.toString('utf8');
  consoleText += text;
  // Echo the inner console, line by line and marked, so the outer console shows both guests.
  const lines = (partial + text).split('\n');
  partial = lines.pop() ?? '';
  for (const l of lines) process.stdout.write(`[inner] ${l.replace(/\r$/, '')}\n`);
};
inner.stdout.on('data', onData);
inner.stderr.on('data', onData);
let timedOut = false;
const timer = setTimeout(() => {
  timedOut = true;
  log(`inner guest timed out after ${job.timeoutMs} ms`);
  inner.stdin.end();
}, job.timeoutMs);
const innerCode = await new Promise((resolve) => inner.once('close', (code) => resolve(code)));
clearTimeout(timer);
const durationMs = Date.now() - started;
log(`inner guest stopped after ${durationMs} ms (qemu ${innerCode})`);

// The host side may finish on its own for up to hostWaitMs (e.g. a server writing its summary),
// then it has had its chance: stop whatever still runs and give it a moment to exit.
const waitUntil = Date.now() + (job.hostWaitMs ?? 0);
while (hosts.some((h) => h.code === null) && Date.now() < waitUntil) await new Promise((r) => setTimeout(r, 250));
if (hosts.some((h) => h.code === null)) log('stopping the host commands that still run');
for (const h of hosts) if (h.code === null) h.child.kill('SIGTERM');
await new Promise((r) => setTimeout(r, hosts.some((h) => h.code === null) ? 1000 : 0));
for (const h of hosts) if (h.code === null) h.child.kill('SIGKILL');

const exitCodes = [];
for (let i = 0; existsSync(join(job.shareDir, `job/exit-${i}`)); i++) {
  exitCodes.push(Number.parseInt(readFileSync(join(job.shareDir, `job/exit-${i}`), 'utf8').trim(), 10));
}
const results = {};
const errors = [];
for (const f of readdirSync(join(job.shareDir, 'results'))) {
  if (!f.endsWith('.json')) continue;
  const raw = readFileSync(join(job.shareDir, 'results', f), 'utf8');
  try {
    results[f.slice(0, -5)] = JSON.parse(raw);
  } catch (e) {
    errors.push(`${f}: ${e.message}`);
  }
}
writeFileSync(
  join(resultsOut, 'nested.json'),
  JSON.stringify({
    inner: { results, exitCodes, console: consoleText.replace(/\r\n/g, '\n'), durationMs, timedOut, errors },
    hostExitCodes: hosts.map((h) => h.code),
  }),
);
process.exit(timedOut ? 124 : 0);

// The legacy-wire interop check, run INSIDE the QEMU test guest by test/vm/legacy.vm.test.ts:
//   A. `envtest server --wire legacy` (default vsock://any:47916) with three C++ legacy clients
//      connected at once (default target of the original: CID 2, port 47916);
//   B. a C++ legacy server (accepts once) with `envtest client --wire legacy` (vsock://2:47916).
// Usage: node test/vm/guest/legacy-check.mjs <path of the built C++ peer>. Writes legacy.json.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { assertInTestGuest, writeResult } from './vsock-common.mjs';

assertInTestGuest('legacy');
const peer = process.argv[2];
const CLI = 'envtest/dist/cli.js';
const PER_CLIENT = 30;
const CLIENT_COUNT = 25;

function run(cmd, args) {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
  const done = new Promise((resolve) => child.once('close', (code, sig) => resolve(code ?? sig)));
  return { child, done, out: () => stdout, err: () => stderr };
}

async function until(cond, ms, what) {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const result = { ok: false };
try {
  // ---- A: our server, three C++ clients at once ----
  const server = run(process.execPath, [
    CLI,
    'server',
    '--wire',
    'legacy',
    '--rate',
    '5',
    '--lateness-ms',
    '30000',
    '--startup-hold-ms',
    '0',
    '--export',
    '/tmp/legacy.jsonl',
    '--summary',
    '/tmp/legacy-summary.json',
  ]);
  await until(() => server.err().includes('listening on'), 120_000, 'envtest server listening');
  const clients = ['c1', 'c2', 'c3'].map((name) => ({ name, r: run(peer, ['client', '2', '47916', String(PER_CLIENT), name]) }));
  const codes = await Promise.all(clients.map((c) => c.r.done));
  await new Promise((r) => setTimeout(r, 1000));
  server.child.kill('SIGINT');
  const serverCode = await server.done;
  const exported = readFileSync('/tmp/legacy.jsonl', 'utf8')
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
  const summary = JSON.parse(readFileSync('/tmp/legacy-summary.json', 'utf8'));
  // Every line a C++ client printed ("ts text") must be in the export, under one source per client.
  const perClient = clients.map(({ name, r }) => {
    const lines = r.out().trim().split('\n').filter(Boolean);
    const sources = new Set();
    let missing = 0;
    for (const line of lines) {
      const [ts, text] = line.split(' ');
      const e = exported.find((x) => x.ts === ts && x.text === text && x.source.startsWith('legacy-'));
      if (e) sources.add(e.source);
      else missing++;
    }
    return {
      name,
      sent: lines.length,
      missing,
      sources: [...sources],
      clockLines: r
        .err()
        .split('\n')
        .filter((l) => l.includes('clock T1=')).length,
      stderr: r.err().slice(-400),
    };
  });
  result.serverSide = {
    clientExitCodes: codes,
    serverExitCode: serverCode,
    perClient,
    bySource: summary.events.bySource,
    legacy: summary.details.legacy,
    late: summary.late,
    lateBySource: summary.details.lateBySource,
    exportHead: exported.slice(0, 40).map((e) => `${e.ts} ${e.source} ${e.text}${e.fields?.late ? ' LATE' : ''}`),
    dropped: summary.dropped,
    serverStdout: server.out().split('\n').slice(0, 60),
    serverStderr: server.err().slice(-2000),
  };

  // ---- B: a C++ server (accept once), our client ----
  const cxx = run(peer, ['server', '47916', String(CLIENT_COUNT)]);
  await until(() => cxx.err().includes('listening on'), 30_000, 'C++ server listening');
  const client = run(process.execPath, [
    CLI,
    'client',
    '--wire',
    'legacy',
    '--count',
    String(CLIENT_COUNT),
    '--rate',
    '50',
    '--name',
    'ours',
    '--summary',
    '/tmp/legacy-client.json',
  ]);
  const clientCode = await client.done;
  result.clientSide = { clientExitCode: clientCode, clientStderr: client.err().slice(-1000), cxxStderr: cxx.err().slice(-1000) };
  const cxxCode = await cxx.done;
  const clientSummary = JSON.parse(readFileSync('/tmp/legacy-client.json', 'utf8'));
  result.clientSide = {
    ...result.clientSide,
    cxxExitCode: cxxCode,
    cxx: JSON.parse(cxx.out().trim().split('\n').pop() || '{}'),
    clientSummary: { events: clientSummary.events, dropped: clientSummary.dropped, clock: clientSummary.clock, details: clientSummary.details },
    cxxStderr: cxx.err().slice(-1000),
  };
  result.ok = true;
} catch (err) {
  result.error = String(err?.stack ?? err);
}
writeResult('legacy', result);
console.log(JSON.stringify(result, null, 1).slice(0, 20000));

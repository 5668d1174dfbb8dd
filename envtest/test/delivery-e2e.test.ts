/**
 * Issue 11, "no silent loss": kill -9 the server and restart it 3 times while a client sends
 * 5 000 events. The client's summary must equal what the servers received, or say exactly how
 * many were lost (dropped or unconfirmed).
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireBuilt, start, until, type Run } from './helpers.js';

requireBuilt();

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'envtest-delivery-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Seqs of `source` in a JSONL export; a line cut by SIGKILL mid-write is ignored. */
function seqsIn(path: string, source: string): number[] {
  if (!existsSync(path)) return [];
  const out: number[] = [];
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (line === '') continue;
    let e: { source: string; seq: number };
    try {
      e = JSON.parse(line) as { source: string; seq: number };
    } catch {
      continue;
    }
    if (e.source === source) out.push(e.seq);
  }
  return out;
}

const bytesIn = (path: string) => (existsSync(path) ? statSync(path).size : 0);

describe('envtest: a server killed with SIGKILL and restarted 3 times', () => {
  it('loses nothing the client does not count: acknowledged + dropped + unconfirmed = generated, and the servers got every acknowledged event', async () => {
    const sock = join(dir, 's.sock');
    const exports: string[] = [];
    // --rate 0: no host events, so events resent to a fresh server are not late behind host ones;
    // --startup-hold-ms 0: each incarnation exports at once, so the kills fall mid-stream.
    // (test/adversarial restarts a server that has host events and the default hold.)
    const startServer = async (i: number, extra: string[] = []): Promise<Run> => {
      await rm(sock, { force: true }); // a SIGKILLed server leaves its socket file behind
      const exportPath = join(dir, `export-${i}.jsonl`);
      exports.push(exportPath);
      const s = start(['server', '--listen', `unix://${sock}`, '--rate', '0', '--startup-hold-ms', '0', '--quiet', '--export', exportPath, ...extra]);
      await until(() => s.stderr().includes('listening on'), 15_000, `server ${i} to listen`);
      return s;
    };

    let server = await startServer(0);
    const clientSummary = join(dir, 'client.json');
    const client = start(['client', '--connect', `unix://${sock}`, '--name', 'survivor', '--count', '5000', '--rate', '1500', '--summary', clientSummary]);
    for (let i = 0; i < 3; i++) {
      const path = exports[i]!;
      // Kill only once this server has received (and exported) some of the client's events.
      await until(() => bytesIn(path) > 2000, 15_000, `server ${i} to export events`);
      server.child.kill('SIGKILL');
      expect(await server.done).toBe('SIGKILL');
      server = await startServer(i + 1, i === 2 ? ['--summary', join(dir, 'server-last.json')] : []);
    }
    expect(await client.done, client.stderr()).toBe(0);
    server.child.kill('SIGINT');
    expect(await server.done, server.stderr()).toBe(0);

    const c = JSON.parse(await readFile(clientSummary, 'utf8')) as {
      events: { total: number };
      dropped: number;
      droppedBy: { hookChannel: number; agent: number };
      unconfirmed: number;
      details: { generated: number; emitted: number; acknowledged: number; connects: number };
    };
    expect(c.details.generated).toBe(5000);
    expect(c.details.connects).toBe(4);
    // The client's account is exact.
    expect(c.events.total).toBe(c.details.acknowledged);
    expect(c.events.total + c.dropped + c.unconfirmed).toBe(5000);

    // What the servers received (their exports; each acked event was in a file before its ack).
    const received = new Set<number>();
    for (const p of exports) for (const s of seqsIn(p, 'survivor')) received.add(s);
    const lost = 5000 - received.size;
    // Every loss is counted by the client: dropped there, or at most its unconfirmed events.
    expect(received.size).toBeGreaterThanOrEqual(c.events.total);
    expect(lost).toBeLessThanOrEqual(c.dropped + c.unconfirmed);
    // With a buffer of 200 000 and a server back within a second, nothing is actually lost.
    expect(c.dropped).toBe(0);
    expect(c.unconfirmed).toBe(0);
    expect(received.size).toBe(5000);
    expect(Math.max(...received)).toBe(4999);

    // The last server's summary agrees with its export, and it merged each event once.
    const last = JSON.parse(await readFile(join(dir, 'server-last.json'), 'utf8')) as {
      events: { bySource: Record<string, number> };
      details: Record<string, unknown>;
    };
    expect(last.events.bySource['survivor']).toBe(seqsIn(exports[3]!, 'survivor').length);
    const lastSeqs = seqsIn(exports[3]!, 'survivor');
    expect(new Set(lastSeqs).size).toBe(lastSeqs.length);
  }, 60_000);
});

import { describe, expect, it } from 'vitest';
import { ArgsError, parseArgs, selectWorkloads } from '../src/args.js';

describe('parseArgs', () => {
  it('defaults', () => {
    expect(parseArgs([])).toEqual({ quick: false, json: null, only: null, reps: null, out: null, help: false, noReadme: false });
  });

  it('reads every flag, with a separate value or with =', () => {
    const o = parseArgs(['--quick', '--json', 'r.json', '--only', 'events,latency', '--only=memory', '--reps=7', '--out', '/tmp/x', '--no-readme']);
    expect(o).toEqual({ quick: true, json: 'r.json', only: ['events', 'latency', 'memory'], reps: 7, out: '/tmp/x', help: false, noReadme: true });
  });

  it('rejects bad input with a message naming the flag', () => {
    expect(() => parseArgs(['--reps', '0'])).toThrow(/--reps must be a positive integer/);
    expect(() => parseArgs(['--reps', '2.5'])).toThrow(ArgsError);
    expect(() => parseArgs(['--json'])).toThrow(/--json needs a value/);
    expect(() => parseArgs(['--json', '--quick'])).toThrow(/--json needs a value/);
    expect(() => parseArgs(['--only', ','])).toThrow(/at least one/);
    expect(() => parseArgs(['--fast'])).toThrow(/unknown argument '--fast'/);
  });

  it('--help', () => {
    expect(parseArgs(['--help']).help).toBe(true);
  });
});

describe('selectWorkloads', () => {
  const all = [{ name: 'events' }, { name: 'latency' }, { name: 'memory' }];
  it('keeps suite order and filters', () => {
    expect(selectWorkloads(all, null)).toEqual(all);
    expect(selectWorkloads(all, ['memory', 'events']).map((w) => w.name)).toEqual(['events', 'memory']);
  });
  it('names unknown workloads and lists the known ones', () => {
    expect(() => selectWorkloads(all, ['evnts'])).toThrow(/unknown workload 'evnts' \(known: events, latency, memory\)/);
  });
});

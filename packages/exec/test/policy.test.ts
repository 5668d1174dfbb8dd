/**
 * The pure rules: the exit code of a status (128 + N for a signal, 124 on timeout), the command
 * lines, the CID allowlist as the agent applies it to a peer's address, and the token check.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAddress } from '@vsock-rpc/engine';
import { ExecError, exitCodeOf, parseCidList, peerRefusal, readTokenFile, tokensEqual } from '../src/index.js';
import { parseAgentArgs, parseRunArgs } from '../src/cli-args.js';
import { engineAllowlist } from '../src/peer-policy.js';
import { tempDir } from './helpers.js';

describe('exit codes', () => {
  it('is the code itself, 128 + N for a signal, 124 on timeout', () => {
    expect(exitCodeOf({ code: 3, timedOut: false, stdinDiscarded: 0 })).toBe(3);
    expect(exitCodeOf({ code: 0, timedOut: false, stdinDiscarded: 0 })).toBe(0);
    expect(exitCodeOf({ signal: 'SIGINT', timedOut: false, stdinDiscarded: 0 })).toBe(130);
    expect(exitCodeOf({ signal: 'SIGKILL', timedOut: false, stdinDiscarded: 0 })).toBe(137);
    expect(exitCodeOf({ signal: 'SIGKILL', timedOut: true, stdinDiscarded: 0 })).toBe(124);
    expect(exitCodeOf({ code: 127, error: 'spawn x ENOENT', timedOut: false, stdinDiscarded: 0 })).toBe(127);
  });
});

describe('the CID allowlist', () => {
  const vsock = (cid: number) => ({ transport: 'vsock' as const, cid });
  it('admits only the host (CID 2) by default', () => {
    const allow = parseCidList('2');
    expect(peerRefusal(vsock(2), allow)).toBeUndefined();
    expect(peerRefusal(vsock(3), allow)).toMatch(/CID 3 is not in the allowlist \(2\).*--allow-cid 2,3/);
    expect(peerRefusal(vsock(1), allow)).toMatch(/CID 1/);
    expect(peerRefusal({ transport: 'vsock', cid: undefined }, allow)).toMatch(/without a CID/);
  });
  it('parses lists, host, local and any', () => {
    expect(parseCidList('2,3, 7')).toEqual([2, 3, 7]);
    expect(parseCidList('host,local')).toEqual([2, 1]);
    expect(parseCidList('any')).toBe('any');
    expect(peerRefusal(vsock(99), 'any')).toBeUndefined();
    for (const bad of ['', 'two', '2;3', '-1', '4294967296']) expect(() => parseCidList(bad)).toThrow(ExecError);
  });
  it('leaves unix, TCP and hybrid peers to the socket (they carry no CID)', () => {
    for (const transport of ['unix', 'tcp', 'hybrid'] as const) expect(peerRefusal({ transport, cid: undefined }, [2])).toBeUndefined();
  });
  it('is enforced at connect on a vsock listener, with peers lacking a CID refused', () => {
    expect(engineAllowlist(parseAddress('vsock://any:1234'), [2])).toEqual({ allowCids: [2], requireCid: true });
    expect(engineAllowlist(parseAddress('vsock://any:1234'), 'any')).toEqual({});
    expect(engineAllowlist(parseAddress('tcp://127.0.0.1:1'), [2])).toEqual({});
  });
});

describe('tokens', () => {
  it('compares equal tokens equal and anything else not, whatever the lengths', () => {
    expect(tokensEqual('s3cret', 's3cret')).toBe(true);
    expect(tokensEqual('s3cres', 's3cret')).toBe(false);
    expect(tokensEqual('s3cret-and-more', 's3cret')).toBe(false);
    expect(tokensEqual('', 's3cret')).toBe(false);
    expect(tokensEqual(undefined, 's3cret')).toBe(false);
  });
  it('reads the first line of a token file, and refuses an empty one', () => {
    const dir = tempDir();
    const f = path.join(dir, 'token');
    writeFileSync(f, '  abc123  \nignored\n');
    expect(readTokenFile(f)).toBe('abc123');
    writeFileSync(f, '\n');
    expect(() => readTokenFile(f)).toThrow(/is empty/);
    expect(() => readTokenFile(path.join(dir, 'missing'))).toThrow(/cannot read token file/);
  });
});

describe('command lines', () => {
  it('vsexec run: options, then the command after -- or at the first word', () => {
    const r = parseRunArgs([
      '--connect',
      'hybrid:///tmp/vmm.vsock:1234',
      '-t',
      '-e',
      'A=1',
      '-e',
      'B=x=y',
      '--cwd',
      '/tmp',
      '--timeout',
      '1.5',
      '--',
      'ls',
      '-l',
    ]);
    expect(r).toMatchObject({ tty: true, env: ['A=1', 'B=x=y'], cwd: '/tmp', timeoutSeconds: 1.5, argv: ['ls', '-l'] });
    expect(r.connect).toEqual({ transport: 'hybrid', path: '/tmp/vmm.vsock', port: 1234 });
    expect(parseRunArgs(['uname', '-a']).argv).toEqual(['uname', '-a']);
    expect(parseRunArgs(['uname']).connect).toEqual({ transport: 'vsock', cid: 3, port: 1234 });
    expect(() => parseRunArgs(['--'])).toThrow(/no command/);
    expect(() => parseRunArgs(['-e', 'NOEQUALS', 'x'])).toThrow(/NAME=value/);
    expect(() => parseRunArgs(['--timeout', '0', 'x'])).toThrow(/--timeout/);
    expect(() => parseRunArgs(['--bogus', 'x'])).toThrow(/unknown option/);
  });
  it('vsexec agent: defaults to vsock://any:1234 and the host only', () => {
    const a = parseAgentArgs([]);
    expect(a.listen).toEqual({ transport: 'vsock', cid: 0xffff_ffff, port: 1234 }); // VMADDR_CID_ANY
    expect(a.allowCids).toEqual([2]);
    expect(parseAgentArgs(['--allow-cid', '1,2', '--token-file', '/t', '--max-sessions', '8'])).toMatchObject({
      allowCids: [1, 2],
      tokenFile: '/t',
      maxSessions: 8,
    });
  });
});

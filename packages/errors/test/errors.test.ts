/** The base class alone; envtest/test/error-family.test.ts checks that every package's errors derive from it. */
import { describe, expect, it } from 'vitest';
import { VsockRpcError, isVsockRpcError } from '../src/index.js';

class SubError extends VsockRpcError {}

describe('VsockRpcError', () => {
  it('has a code, the concrete class name and a cause', () => {
    const cause = new Error('under');
    const e = new SubError('SOME_CODE', 'what happened', { cause });
    expect(e).toBeInstanceOf(Error);
    expect(e).toBeInstanceOf(VsockRpcError);
    expect(isVsockRpcError(e)).toBe(true);
    expect(isVsockRpcError(new Error('x'))).toBe(false);
    expect(e.code).toBe('SOME_CODE');
    expect(e.name).toBe('SubError');
    expect(e.message).toBe('what happened');
    expect(e.cause).toBe(cause);
  });

  it('sets syscall, errno and address only where they apply, like node', () => {
    const plain = new VsockRpcError('UNAVAILABLE', 'closed');
    expect(Object.keys(plain)).not.toContain('errno');
    expect('cause' in plain).toBe(false);
    expect(plain.address).toBeUndefined();
    const sys = new VsockRpcError('ECONNREFUSED', 'connect failed', { errno: 111, syscall: 'connect', address: 'vsock://3:5000' });
    expect(sys).toMatchObject({ code: 'ECONNREFUSED', errno: 111, syscall: 'connect', address: 'vsock://3:5000' });
  });
});

/**
 * `--wire native|legacy` of `envtest server` and `envtest client`: which protocol to speak.
 * `legacy` is the C++ envtest's (packages/legacy), on its real port 47916 by default.
 */
import { UsageError, stringOpt, type OptionSpec, type ParsedValues } from './args.js';

/** The two wires. */
export type Wire = 'native' | 'legacy';

/** The server's default address with `--wire legacy`: the original's real port. */
export const DEFAULT_LEGACY_LISTEN = 'vsock://any:47916';
/** The client's default address with `--wire legacy`: the host, the original's real port. */
export const DEFAULT_LEGACY_CONNECT = 'vsock://2:47916';

/** The flag's spec, shared by both commands. */
export const WIRE_FLAG: Record<'wire', OptionSpec> = {
  wire: {
    type: 'string',
    value: 'WIRE',
    help: "native (default: vsock-rpc) or legacy: the C++ envtest's wire, to talk to its binaries (default port 47916)",
  },
};

/** Reads `--wire`; anything but native or legacy is a usage error. */
export function wireOpt(v: ParsedValues, command: string): Wire {
  const w = stringOpt(v, 'wire') ?? 'native';
  if (w !== 'native' && w !== 'legacy') throw new UsageError(`--wire must be native or legacy, not '${w}'`, command);
  return w;
}

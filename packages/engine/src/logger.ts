/** Where the engine writes its one line per notable event (a peer's failure, a reconnect). */
export interface Logger {
  warn(message: string): void;
  info?(message: string): void;
}

/** The default logger: one line on stderr, prefixed so it can be grepped. */
export const stderrLogger: Logger = {
  warn: (message) => process.stderr.write(`[vsock-rpc] ${message}\n`),
};

/** A logger that says nothing. */
export const silentLogger: Logger = { warn: () => {} };

/** The default logger: one line on stderr, prefixed so it can be grepped. */
export const stderrLogger = {
    warn: (message) => process.stderr.write(`[vsock-rpc] ${message}\n`),
};
/** A logger that says nothing. */
export const silentLogger = { warn: () => { } };
//# sourceMappingURL=logger.js.map
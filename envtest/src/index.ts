/**
 * `envtest` as a library: the commands behind the CLI, for scripts and tests that want to run a
 * server, a client or the demo in-process.
 *
 * @packageDocumentation
 */
export { runServer, serverSpec, DEFAULT_LISTEN, type ServerOptions } from './commands/server.js';
export { runClient, clientSpec, DEFAULT_CONNECT, defaultClientName, type ClientOptions } from './commands/client.js';
export { runDemo, demoSpec, demoSkewNs, type DemoOptions } from './commands/demo.js';
export { type Summary, type SummaryClock } from './summary.js';
export { ENVTEST_METRIC_NAMES } from './envtest-metrics.js';
export { UsageError, helpText, parseCommand, type CommandSpec, type OptionSpec } from './args.js';
export { EnvtestError } from './errors.js';
export { TraceSetupError, exitCodeOf } from './errors.js';
export { type FtraceOptions } from './ftrace/options.js';
export { type FtraceSourceSummary, type CpuLoss } from './ftrace/losses.js';

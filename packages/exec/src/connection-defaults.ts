/** The connection settings vsexec changes from the engine's defaults, shared by agent and client. */

/**
 * How long a silent connection is kept (the engine's default is 3 × its 5 s keepalive). A host
 * pings every 5 s while its command is silent; a longer limit keeps sessions alive across a
 * starved guest or host (a loaded TCG guest can stall a process for many seconds).
 */
export const IDLE_TIMEOUT_MS = 60_000;

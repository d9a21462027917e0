import { pino, type Logger } from 'pino';

/**
 * The process logger: JSON lines on stdout, written asynchronously so logging never blocks a
 * request. `SEKISHO_LOG_LEVEL` (default `info`) sets the level; `silent` turns logs off.
 */
export function createLogger(component: string): Logger {
  return pino(
    {
      level: process.env['SEKISHO_LOG_LEVEL'] ?? 'info',
      base: { component },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    pino.destination({ dest: 1, sync: false }),
  );
}

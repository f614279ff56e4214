// The run's log: every line goes to standard output and to a log file in the
// artefacts directory, prefixed with the seconds since the run began.
// Measurement lines are written without the prefix, so that they read (and
// grep) exactly as `measure FRONTEND WHAT: median X ms, p95 Y ms over N UNIT`.

import fs from 'node:fs';

/**
 * Creates a logger appending to file. The returned function logs one line;
 * its .measure logs a measurement line as is; .close flushes the file.
 */
export function createLog(file) {
  const start = Date.now();
  const fd = fs.openSync(file, 'a');
  const write = (line) => {
    process.stdout.write(line + '\n');
    try {
      fs.writeSync(fd, line + '\n');
    } catch {
      // the log file is best effort once the run is ending
    }
  };
  const log = (...parts) => {
    const secs = ((Date.now() - start) / 1000).toFixed(1).padStart(6);
    const text = parts.map((p) => (typeof p === 'string' ? p : p instanceof Error ? p.stack || p.message : JSON.stringify(p))).join(' ');
    for (const line of text.split('\n')) write(`[${secs}s] ${line}`);
  };
  log.measure = (line) => write(line);
  log.close = () => {
    try {
      fs.closeSync(fd);
    } catch {
      // already closed
    }
  };
  return log;
}

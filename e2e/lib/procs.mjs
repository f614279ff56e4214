// Child processes of the run: each is started in a process group of its own
// with its output copied to a log file, can be waited on for a line of
// output, and is stopped with its whole group (SIGTERM, then SIGKILL). Every
// process started here is remembered, so stopAll can end them all whatever
// happened. Jupyter starts kernels in sessions of their own, outside the
// server's group; killStrays finds those left behind by a marker in their
// command line or environment (the run's private workspace, which the
// servers' environment names and their kernels inherit) and kills them by id.

import { spawn } from 'node:child_process';
import fs from 'node:fs';

const started = new Set();

/**
 * Starts cmd with args; stdout and stderr are appended to logFile. Returns a
 * handle: { name, pid, exited (a promise of the exit code), output() (all
 * output so far), waitFor(regex, ms), stop() }.
 */
export function start(name, cmd, args, { env, cwd, logFile }) {
  const out = fs.openSync(logFile, 'a');
  const child = spawn(cmd, args, { env, cwd, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  let exitCode = null;
  const waiters = new Set();
  const onData = (buf) => {
    fs.writeSync(out, buf);
    text += buf.toString();
    if (text.length > 1 << 20) text = text.slice(-(1 << 19));
    for (const w of waiters) w();
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const exited = new Promise((resolve) => {
    child.on('error', (err) => {
      text += `\n${name}: ${err.message}\n`;
      exitCode = -1;
      resolve(-1);
      for (const w of waiters) w();
    });
    child.on('exit', (code, signal) => {
      exitCode = code ?? signal;
      resolve(exitCode);
      for (const w of waiters) w();
    });
  });
  exited.then(() => {
    started.delete(handle);
    try {
      fs.closeSync(out);
    } catch {
      // already closed
    }
  });

  const handle = {
    name,
    pid: child.pid,
    exited,
    output: () => text,
    /** Resolves to the regex's match once the output has it; rejects if the process exits or ms pass first. */
    waitFor(regex, ms) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const m = text.match(regex);
          if (m) return done(null, m);
          if (exitCode !== null) return done(new Error(`${name} exited (${exitCode}) before printing ${regex}; its output (${logFile}) ends:\n${lastLines(text)}`));
        };
        const timer = setTimeout(() => done(new Error(`${name} did not print ${regex} within ${ms / 1000} s; see ${logFile}`)), ms);
        const done = (err, m) => {
          clearTimeout(timer);
          waiters.delete(check);
          err ? reject(err) : resolve(m);
        };
        waiters.add(check);
        check();
      });
    },
    /** Stops the process group: SIGTERM, and SIGKILL after graceMs. */
    async stop(graceMs = 8000) {
      if (exitCode !== null || !child.pid) return;
      signalGroup(child.pid, 'SIGTERM');
      const timedOut = await Promise.race([exited.then(() => false), sleep(graceMs).then(() => true)]);
      // The leader may be gone while others of its group live on: always finish the group.
      signalGroup(child.pid, 'SIGKILL');
      if (timedOut) await Promise.race([exited, sleep(2000)]);
    },
  };
  started.add(handle);
  return handle;
}

/** The last lines of text. */
export function lastLines(text, n = 20) {
  return text.trim().split('\n').slice(-n).join('\n');
}

function signalGroup(pid, signal) {
  try {
    process.kill(-pid, signal);
  } catch {
    // the group is gone
  }
}

/** Stops every process started by start that is still running. */
export async function stopAll() {
  await Promise.all([...started].map((h) => h.stop()));
}

/**
 * Kills (SIGKILL) every process whose command line or environment contains
 * marker, other than this one, and returns their ids and command lines.
 */
export function killStrays(marker) {
  const killed = [];
  if (!marker) return killed;
  let entries = [];
  try {
    entries = fs.readdirSync('/proc');
  } catch {
    return killed; // no /proc: nothing to find
  }
  for (const e of entries) {
    const pid = Number(e);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    let cmdline;
    let environ = '';
    try {
      cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
      environ = fs.readFileSync(`/proc/${pid}/environ`, 'utf8');
    } catch {
      if (cmdline === undefined) continue; // gone, or not ours to read
    }
    if (!cmdline.includes(marker) && !environ.includes(marker)) continue;
    try {
      process.kill(pid, 'SIGKILL');
      killed.push(`${pid} ${cmdline.trim()}`);
    } catch {
      // gone already
    }
  }
  return killed;
}

/** Runs cmd to completion; resolves to { code, output }. */
export function run(cmd, args, { env, cwd } = {}) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (b) => (output += b));
    child.stderr.on('data', (b) => (output += b));
    child.on('error', (err) => resolve({ code: -1, output: output + err.message }));
    child.on('exit', (code, signal) => resolve({ code: code ?? signal, output }));
  });
}

export function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

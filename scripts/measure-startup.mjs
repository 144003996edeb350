// Start-up time and memory of a command, for docs/benchmarks.md.
//   node scripts/measure-startup.mjs [--runs N] [--until REGEX] -- COMMAND [ARGS...]
// Without --until: wall time until COMMAND exits, its CPU time (user + system) and peak RSS (GNU
// time's %U %S %M). With --until: wall time until stdout matches REGEX (e.g. the `spillway up`
// banner), and the process's CPU time and RSS at that moment (/proc); then it gets SIGTERM.
// CPU time is the steadier figure on a busy machine: wall time includes waiting for a core.
// Start COMMAND as the node process itself (not through npm), so the figures are that process's.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

function parseArgs(argv) {
  const split = argv.indexOf('--');
  if (split < 0 || split === argv.length - 1) {
    process.stderr.write('usage: measure-startup.mjs [--runs N] [--until REGEX] -- COMMAND [ARGS...]\n');
    process.exit(2);
  }
  const options = argv.slice(0, split);
  const flagValue = (flag) => (options.includes(flag) ? options[options.indexOf(flag) + 1] : undefined);
  return {
    runs: Number(flagValue('--runs') ?? 5),
    until: flagValue('--until') ? new RegExp(flagValue('--until')) : undefined,
    command: argv.slice(split + 1),
  };
}

/** A token file of the measurement's own, never the user's ~/.spillway. */
const env = {
  ...process.env,
  LOG_LEVEL: 'warn',
  SPILLWAY_TOKEN_FILE: join(mkdtempSync(join(tmpdir(), 'spillway-measure-')), 'admin-token'),
};

const CLOCK_TICKS_PER_S = 100;

/** User + system CPU ms of a live process (/proc/PID/stat fields 14 and 15). */
function procCpuMs(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_S;
}

function procStatusKb(pid, field) {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${field}:`));
  return Number(line?.split(/\s+/)[1]);
}

/** Runs to exit under GNU time: wall ms and peak RSS in MiB. */
function runToExit(command) {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn('/usr/bin/time', ['-f', 'maxrss_kb=%M cpu_s=%U+%S', ...command], {
      env,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    child.on('exit', (code) => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      const measured = /maxrss_kb=(\d+) cpu_s=([\d.]+)\+([\d.]+)/.exec(stderr);
      if (code !== 0 || !measured) reject(new Error(`exit ${code}: ${stderr.slice(-500)}`));
      else {
        const [, kb, user, system] = measured.map(Number);
        resolve({ ms, cpuMs: (user + system) * 1000, rssMiB: kb / 1024 });
      }
    });
  });
}

/** Runs until a stdout line matches: ms to it, RSS and peak RSS (MiB) then; stops the process. */
function runUntil(command, pattern) {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(command[0], command.slice(1), { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
      if (!pattern.test(stdout) || child.killed) return;
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      const result = {
        ms,
        cpuMs: procCpuMs(child.pid),
        rssMiB: procStatusKb(child.pid, 'VmRSS') / 1024,
        peakMiB: procStatusKb(child.pid, 'VmHWM') / 1024,
      };
      child.kill('SIGTERM');
      child.once('exit', () => resolve(result));
    });
    child.on('exit', (code) => {
      if (!pattern.test(stdout)) reject(new Error(`exit ${code} before ${pattern}: ${stderr.slice(-500)}`));
    });
  });
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const fmt = (values, digits) =>
  `median ${median(values).toFixed(digits)} (min ${Math.min(...values).toFixed(digits)}, max ${Math.max(...values).toFixed(digits)})`;

const { runs, until, command } = parseArgs(process.argv.slice(2));
const results = [];
for (let i = 0; i < runs; i++) results.push(until ? await runUntil(command, until) : await runToExit(command));
const rows = [
  ['time ms', results.map((r) => r.ms), 0, ''],
  ['CPU ms', results.map((r) => r.cpuMs), 0, ''],
  ['RSS MiB', results.map((r) => r.rssMiB), 1, until ? ' at the match' : ' (peak)'],
  ...(until ? [['peak MiB', results.map((r) => r.peakMiB), 1, '']] : []),
];
process.stdout.write(`${command.join(' ')}  (${runs} runs)\n`);
for (const [label, values, digits, note] of rows)
  process.stdout.write(`  ${label.padEnd(9)}${fmt(values, digits)}${note}\n`);

import { lstat, mkdtemp, readFile, readlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { formatLogLine, logLevelFrom, openRunLog } from '../src/run-log.js';

async function openInTemp(level: 'info' | 'error') {
  const dir = await mkdtemp(join(tmpdir(), 'spillway-run-log-'));
  const stderr = new PassThrough();
  let shown = '';
  stderr.on('data', (chunk: Buffer) => {
    shown += chunk.toString();
  });
  const log = await openRunLog({ name: 'spillway', level, file: join(dir, 'logs', 'up.log'), stderr });
  return { dir, log, shown: () => shown };
}

describe('the run log of spillway up', () => {
  it('writes every record as JSON to a private file and only warnings and errors, readable, to stderr', async () => {
    const { dir, log, shown } = await openInTemp('info');
    log.logger.info({ component: 'http', reqId: 'r1' }, 'request completed');
    log.logger
      .child({ component: 'burst-controller' })
      .warn({ err: new Error('ECONNREFUSED') }, 'prometheus query failed');

    expect(log.currentFile).toBe(join(dir, 'logs', 'current.log'));
    expect((await lstat(log.currentFile)).isSymbolicLink()).toBe(true);
    expect(await readlink(log.currentFile)).toBe('up.1.log');
    const records = (await readFile(log.currentFile, 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { msg: string; level: number });
    expect(records.map((r) => [r.level, r.msg])).toEqual([
      [30, 'request completed'],
      [40, 'prometheus query failed'],
    ]);
    expect((await lstat(join(dir, 'logs', 'up.1.log'))).mode & 0o777).toBe(0o600);
    expect((await lstat(join(dir, 'logs'))).mode & 0o777).toBe(0o700);

    expect(shown()).toMatch(/^\d\d:\d\d:\d\d WARN burst-controller: prometheus query failed \(ECONNREFUSED\)\n$/);
  });

  it('keeps stderr at warn even when the file takes less, and above it when the level is higher', async () => {
    const high = await openInTemp('error');
    high.log.logger.warn('not shown');
    high.log.logger.error('shown');
    expect(high.shown()).toMatch(/ERROR shown\n$/);
    expect(high.shown()).not.toContain('not shown');
    expect(await readFile(high.log.currentFile, 'utf8')).not.toContain('not shown');
  });

  it('takes --log-level over LOG_LEVEL and names the one that is wrong', () => {
    expect(logLevelFrom(undefined, undefined)).toBe('info');
    expect(logLevelFrom(undefined, 'debug')).toBe('debug');
    expect(logLevelFrom('warn', 'debug')).toBe('warn');
    expect(() => logLevelFrom('loud', 'info')).toThrow(
      "--log-level: expected one of trace, debug, info, warn, error, fatal, silent, got 'loud'",
    );
    expect(() => logLevelFrom(undefined, 'verbose')).toThrow(/^LOG_LEVEL: expected one of/);
  });

  it('names the file it cannot write', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'spillway-run-log-'));
    await writeFile(join(dir, 'not-a-dir'), '');
    const file = join(dir, 'not-a-dir', 'up.log');
    await expect(openRunLog({ name: 'spillway', level: 'info', file })).rejects.toThrow(
      `cannot write the log file ${file}: EEXIST`,
    );
  });

  it('shows a line that is not a pino record as it is', () => {
    expect(formatLogLine('plain text\n')).toBe('plain text');
  });
});

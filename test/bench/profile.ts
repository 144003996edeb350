/**
 * BENCH_PROFILE=DIR: a V8 CPU profile of one measured section, written to DIR/NAME.cpuprofile
 * (open it in Chrome DevTools or speedscope). Profiling only what is measured keeps start-up
 * and the initial sync out of the picture.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { join } from 'node:path';

export async function profiled<T>(name: string, section: () => Promise<T>): Promise<T> {
  const directory = process.env['BENCH_PROFILE'];
  if (!directory) return section();
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  try {
    return await section();
  } finally {
    const { profile } = await session.post('Profiler.stop');
    mkdirSync(directory, { recursive: true });
    const file = join(directory, `${name}.cpuprofile`);
    writeFileSync(file, JSON.stringify(profile));
    console.error(`CPU profile of ${name}: ${file}`);
    session.disconnect();
  }
}

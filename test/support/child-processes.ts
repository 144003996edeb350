import type { ChildProcess } from 'node:child_process';

/** Servers the test harnesses started in this process and have not stopped yet. */
const live = new Set<ChildProcess>();
let exitHookInstalled = false;

/** Follows a spawned server so that a runner dying without its afterAll leaves none behind. */
export function trackChild(child: ChildProcess): void {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const running of live) running.kill('SIGKILL');
    });
  }
  live.add(child);
}

export function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

/** SIGKILL, then wait (at most 5 s) for the exit, and stop following the child. */
export async function killChild(child: ChildProcess): Promise<void> {
  if (!hasExited(child)) {
    const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGKILL');
    await Promise.race([gone, new Promise((resolve) => setTimeout(resolve, 5_000).unref())]);
  }
  live.delete(child);
}

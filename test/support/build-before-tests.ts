import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const REPO = fileURLToPath(new URL('../../', import.meta.url));

/**
 * Vitest global setup: tests that start `spillway` as a process run the compiled CLI, as users
 * do, so build it first. Turbo's cache makes this about 0.3 s when the sources did not change.
 */
export default function buildBeforeTests(): void {
  try {
    execFileSync('npm', ['run', '--silent', 'build'], { cwd: REPO, stdio: 'pipe' });
  } catch (error) {
    const failure = error as { stdout?: Buffer; stderr?: Buffer };
    throw new Error(`npm run build failed before the tests:\n${failure.stdout ?? ''}${failure.stderr ?? ''}`);
  }
}

import { execFile, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { validateKubernetesObject } from '@spillway/test/support/kubernetes-schemas';
import { afterAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';

const run = promisify(execFile);
const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const CLONE_PARENT = mkdtempSync(join(tmpdir(), 'spillway-fresh-clone-'));
const CLONE = join(CLONE_PARENT, 'spillway');

/** A shell as a newcomer has one: the system's Node and npm, none of this checkout's node_modules/.bin. */
const SYSTEM_ENV = {
  ...process.env,
  PATH: (process.env.PATH ?? '')
    .split(delimiter)
    .filter((dir) => !dir.includes('node_modules'))
    .join(delimiter),
  // npm's own variables from the npm that started the tests would steer the clone's install.
  npm_config_prefix: undefined,
  npm_config_local_prefix: undefined,
  INIT_CWD: undefined,
};

// Deleting a whole node_modules takes a minute on a busy machine: let `rm` do it after the run
// instead of holding the test suite (the directory is the test's own, under the temp dir).
afterAll(() => {
  spawn('rm', ['-rf', CLONE_PARENT], { detached: true, stdio: 'ignore' }).unref();
});

async function inClone(command: string, args: string[]) {
  return run(command, args, { cwd: CLONE, env: SYSTEM_ENV, maxBuffer: 64 * 1024 * 1024 });
}

describe('a fresh clone', () => {
  it('installs with `npm ci` (no engine warning, tree left clean), and its built CLI prints the version and valid manifests', async () => {
    const started = Date.now();
    // HEAD of this checkout, as a new clone: nothing uncommitted or built here leaks in.
    await run('git', ['clone', '--quiet', REPO, CLONE]);
    // The package cache makes this a copy, not a download (--prefer-offline): seconds, not minutes.
    const install = await inClone('npm', ['ci', '--prefer-offline', '--no-audit', '--no-fund']);
    const installed = Date.now();
    expect(`${install.stdout}${install.stderr}`).not.toContain('EBADENGINE');
    expect((await inClone('git', ['status', '--porcelain'])).stdout).toBe('');

    // `npm ci` built the CLI (prepare); `npx spillway` runs it on the Node the repository pins.
    const version = await inClone('npx', ['--offline', 'spillway', '--version']);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
    const manifests = await inClone('npx', ['--offline', 'spillway', 'manifests']);
    const documents = parseAllDocuments(manifests.stdout);
    const objects = documents.map((document) => document.toJS() as { kind: string; metadata: { name: string } });
    for (const object of objects) validateKubernetesObject(object);
    expect(objects.map((object) => `${object.kind}/${object.metadata.name}`)).toEqual(
      expect.arrayContaining([
        'Deployment/spillway-federation',
        'Deployment/spillway-controller',
        'Deployment/spillway-router',
        'CustomResourceDefinition/burstpolicies.spillway.dev',
        'CustomResourceDefinition/drills.spillway.dev',
      ]),
    );
    // The figure docs/kubernetes.md quotes: what this test adds to CI.
    process.stdout.write(
      `fresh clone: clone + npm ci ${((installed - started) / 1000).toFixed(1)} s, total ${((Date.now() - started) / 1000).toFixed(1)} s\n`,
    );
  }, 240_000);
});

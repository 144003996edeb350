import { execFile, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { defaultValues, renderManifests } from '@spillway/manifests';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const DOCKERFILE = readFileSync(join(REPO, 'Dockerfile'), 'utf8');

interface Stage {
  readonly name: string;
  readonly instructions: { keyword: string; args: string }[];
}

/** The Dockerfile's stages and their instructions (comments dropped, continuation lines joined). */
function stages(text: string): Stage[] {
  const lines = text
    .replace(/\\\n\s*/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
  const found: Stage[] = [];
  for (const line of lines) {
    const [keyword = '', ...rest] = line.split(/\s+/);
    const args = rest.join(' ');
    if (keyword === 'FROM') found.push({ name: /\bAS\s+(\S+)$/i.exec(args)?.[1] ?? '', instructions: [] });
    else found.at(-1)?.instructions.push({ keyword, args });
  }
  return found;
}

function stage(name: string): Stage {
  const found = stages(DOCKERFILE).find((candidate) => candidate.name === name);
  if (!found) throw new Error(`no stage ${name} in the Dockerfile`);
  return found;
}

const args = (of: Stage, keyword: string) =>
  of.instructions.filter((instruction) => instruction.keyword === keyword).map((instruction) => instruction.args);

// Inside the repository (its tmp/ is git-ignored), so that `cp -al` can hard-link node_modules:
// the system temp dir may be another filesystem.
mkdirSync(join(REPO, 'tmp'), { recursive: true });
const SANDBOX = mkdtempSync(join(REPO, 'tmp', 'spillway-image-'));
afterAll(() => {
  spawn('rm', ['-rf', SANDBOX], { detached: true, stdio: 'ignore' }).unref();
});

describe('the Dockerfile (no registry here to pull a base image: its parts are checked instead)', () => {
  it('builds as the tests do: `npm ci` (prepare: npm run build) then `npm run build`', () => {
    const commands = args(stage('build'), 'RUN');
    expect(commands[0]).toMatch(/^npm ci\b/);
    expect(commands[1]).toBe('npm run build');
    // The tests' global setup runs that same script before any test starts a process.
    const setup = readFileSync(join(REPO, 'test/support/build-before-tests.ts'), 'utf8');
    expect(setup).toContain("['run', '--silent', 'build']");
    const root = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(root.scripts.prepare).toContain('build');
  });

  it('runs as a numeric non-root user, the one the manifests pods run as', () => {
    const [user] = args(stage('runtime'), 'USER');
    expect(user).toBe('1000:1000');
    const router = renderManifests(defaultValues(), { version: '0.0.0' }).find(
      (object) => object.kind === 'Deployment' && object.metadata.name === 'spillway-router',
    );
    const pod = (router!.spec as { template: { spec: { securityContext: { runAsUser: number } } } }).template.spec;
    expect(pod.securityContext.runAsUser).toBe(Number(user!.split(':')[0]));
  });

  it("the runtime stage's files alone run the CLI: --version, manifests, and the CMD", async () => {
    // Lay out what the runtime stage copies from the build stage (hard links: same files, no copy
    // of node_modules), then run the ENTRYPOINT from there: nothing else of the repository is needed.
    const runtime = stage('runtime');
    const workdir = args(runtime, 'WORKDIR').at(-1)!;
    for (const copy of args(runtime, 'COPY').filter((line) => line.startsWith('--from=build'))) {
      const [, ...paths] = copy.split(/\s+/);
      const destination = paths.pop()!;
      for (const source of paths) {
        const target = destination.endsWith('/')
          ? join(SANDBOX, workdir, destination, basename(source))
          : join(SANDBOX, workdir, destination);
        mkdirSync(dirname(target), { recursive: true });
        await run('cp', ['-al', join(REPO, source.replace(/^\/app\//, '')), target]);
      }
    }
    const entrypoint = JSON.parse(args(runtime, 'ENTRYPOINT')[0]!) as string[];
    const cmd = JSON.parse(args(runtime, 'CMD')[0]!) as string[];
    expect(entrypoint[0]).toBe('node');
    const script = join(SANDBOX, entrypoint[1]!);
    const cli = (...cliArgs: string[]) => run(process.execPath, [script, ...cliArgs], { cwd: SANDBOX });
    expect((await cli('--version')).stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    expect((await cli('manifests')).stdout).toContain('kind: PrometheusRule');
    expect((await cli(...cmd)).stdout).toContain('Usage: spillway');
  });

  it('.dockerignore keeps what is built or installed here out of the build context', () => {
    const ignored = readFileSync(join(REPO, '.dockerignore'), 'utf8').split('\n');
    expect(ignored).toEqual(expect.arrayContaining(['**/node_modules', '**/dist', '.git']));
  });
});

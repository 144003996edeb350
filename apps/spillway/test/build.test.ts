import { execFile, execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { delimiter } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { runCli } from './cli-process.js';

const run = promisify(execFile);
const REPO = new URL('../../../', import.meta.url);

interface Manifest {
  name: string;
  version?: string;
  workspaces?: string[];
  engines?: { node?: string };
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}

function manifest(relativeDir: string): Manifest {
  return JSON.parse(readFileSync(new URL(`${relativeDir}/package.json`, REPO), 'utf8')) as Manifest;
}

/** PATH without the node_modules/.bin directories npm or npx added for this process. */
function systemPath(): string {
  return (process.env.PATH ?? '')
    .split(delimiter)
    .filter((dir) => !dir.includes('node_modules'))
    .join(delimiter);
}

function major(version: string): number {
  return Number(/(\d+)/.exec(version)?.[1]);
}

/** The `node` on the system's PATH (the one that runs npm), and its version without the `v`. */
function systemNode(): { path: string; version: string } {
  const env = { ...process.env, PATH: systemPath() };
  const path = execFileSync('sh', ['-c', 'command -v node'], { env, encoding: 'utf8' }).trim();
  return { path, version: execFileSync(path, ['-p', 'process.versions.node'], { encoding: 'utf8' }).trim() };
}

const SYSTEM_NODE = systemNode();

/** Every workspace's manifest, by package name (workspace globs here are all `dir/*` or `dir`). */
function workspaces(): Map<string, Manifest> {
  const found = new Map<string, Manifest>();
  for (const pattern of manifest('.').workspaces ?? []) {
    const dirs = pattern.endsWith('/*')
      ? subdirectories(pattern.slice(0, -1)).map((entry) => pattern.slice(0, -1) + entry)
      : [pattern];
    for (const dir of dirs) {
      const pkg = manifest(dir);
      found.set(pkg.name, pkg);
    }
  }
  return found;
}

function subdirectories(relativeDir: string): string[] {
  return readdirSync(new URL(relativeDir, REPO), { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name);
}

/** A dependency cycle among workspaces (dependencies and devDependencies), or undefined. */
function findCycle(graph: Map<string, Manifest>): string[] | undefined {
  const done = new Set<string>();
  const visit = (name: string, path: string[]): string[] | undefined => {
    if (path.includes(name)) return [...path.slice(path.indexOf(name)), name];
    if (done.has(name)) return undefined;
    const pkg = graph.get(name);
    const deps = Object.keys({ ...pkg?.dependencies, ...pkg?.devDependencies }).filter((dep) => graph.has(dep));
    for (const dep of deps) {
      const cycle = visit(dep, [...path, name]);
      if (cycle) return cycle;
    }
    done.add(name);
    return undefined;
  };
  for (const name of graph.keys()) {
    const cycle = visit(name, []);
    if (cycle) return cycle;
  }
  return undefined;
}

describe('the runtime the repository pins and the build it runs', () => {
  it('`spillway --version` from the compiled CLI prints the CLI package version', async () => {
    const { code, stdout } = await runCli(['--version']);
    expect(code).toBe(0);
    expect(stdout.trim()).toBe(manifest('apps/spillway').version);
  });

  it('npm scripts run the pinned Node (the `node` devDependency), at least the engines floor of 22', async () => {
    const root = manifest('.');
    const pinned = root.devDependencies?.node ?? '';
    // From a shell whose PATH has only the system's Node: npm puts the pinned one first.
    const { stdout } = await run('npm', ['exec', '--offline', '-c', 'node -p process.version'], {
      cwd: REPO,
      env: { ...process.env, PATH: systemPath() },
    });
    expect(stdout.trim()).toBe(`v${pinned}`);
    expect(major(stdout.trim().slice(1))).toBeGreaterThanOrEqual(22);
    expect(root.engines?.node).toBe('>=22');
    // The test runner itself was started by npm, so it runs on the same Node.
    expect(major(process.versions.node)).toBeGreaterThanOrEqual(22);
    // Node's type definitions describe the Node that runs the code.
    expect(major(root.devDependencies?.['@types/node'] ?? '')).toBe(major(pinned));
  });

  it.skipIf(major(SYSTEM_NODE.version) >= 22)(
    'on a Node older than 22 (the system one, when it is) the command refuses to start and says which Node to use',
    async () => {
      const bin = new URL('apps/spillway/bin/spillway.js', REPO).pathname;
      const failure = await run(SYSTEM_NODE.path, [bin, '--version']).catch(
        (error: { code: number; stderr: string }) => error,
      );
      expect(failure).toMatchObject({ code: 1 });
      expect((failure as { stderr: string }).stderr).toContain(
        `needs Node 22 or newer, this is v${SYSTEM_NODE.version}`,
      );
    },
  );

  it('the workspace dependency graph has no cycle', () => {
    expect(findCycle(workspaces())).toBeUndefined();
  });
});

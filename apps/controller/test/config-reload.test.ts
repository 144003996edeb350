import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigFileWatcher } from '@spillway/config';
import { waitFor } from '@spillway/test/support/wait';
import { afterEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { api, postBurst, startHarness } from './controller-harness.js';

let harness: Awaited<ReturnType<typeof startHarness>> | undefined;
let watcher: ConfigFileWatcher | undefined;
let dir: string | undefined;
afterEach(async () => {
  watcher?.stop();
  await harness?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
  harness = watcher = dir = undefined;
});

describe('config reload while a burst runs (real file, fs watch)', () => {
  it('a lower maxShare in the file caps the published share on the next pass, audited; an invalid edit keeps it and names file:line:field', async () => {
    harness = await startHarness();
    const { url, running, registry } = harness;
    const share = () => harness!.traffic.get('checkout.shop')?.cloudShare ?? 0;
    dir = await mkdtemp(join(tmpdir(), 'spillway-reload-'));
    const file = join(dir, 'spillway.yaml');
    const started = running.reloads.config;
    const fileText = (policy: Record<string, unknown>) =>
      stringify({ clusters: started.clusters, policies: [{ ...started.policies[0], ...policy }] });
    await writeFile(file, fileText({}));
    watcher = new ConfigFileWatcher({ file, debounceMs: 50, onReload: (reload) => running.reloads.apply(reload) });
    await watcher.start();

    const burst = await postBurst(url, { share: 0.3, reason: 'surge' });
    expect(burst.status).toBe(202);
    await waitFor(() => share() === 0.3, { message: 'share 0.3 applied', timeoutMs: 30_000 });

    await writeFile(file, fileText({ maxShare: 0.2, steps: [0.1, 0.2] }));
    await waitFor(() => share() === 0.2, { message: 'the published share capped by the reloaded maxShare' });
    expect(running.policies.get('checkout.shop')?.maxShare).toBe(0.2);
    const audit = await api(url, 'GET', '/v1/audit?service=checkout.shop&limit=1000');
    const messages: string[] = audit.body.entries.map((e: { message: string }) => e.message);
    expect(messages).toContain(`config reload (file) of ${file}: policy changed (maxShare, steps)`);
    expect(messages).toContain('the policy now allows at most share 0.20: share 0.30 → 0.20 at once');
    const applied = audit.body.entries.find((e: { actor: string }) => e.actor === 'config-reload');
    expect(applied).toMatchObject({ kind: 'api', details: { fields: ['maxShare', 'steps'], trigger: 'file' } });

    // An invalid edit: the running policy stays, the error says where.
    const invalid = fileText({ maxShare: 0.2, steps: [0.1, 0.2] }).replace('maxShare: 0.2', 'maxShare: lots');
    const line = invalid.split('\n').findIndex((text) => text.includes('maxShare: lots')) + 1;
    await writeFile(file, invalid);
    const error = await waitFor(() => running.reloads.lastError, { message: 'the invalid edit refused' });
    expect(error).toMatch(new RegExp(`^${escapeRegExp(file)}:${line}:\\d+: policies\\[0\\]\\.maxShare: `));
    expect(running.policies.get('checkout.shop')?.maxShare).toBe(0.2);
    expect(share()).toBe(0.2);
    const metrics = await registry.metrics();
    expect(metrics).toContain('spillway_config_reloads_total{result="applied"} 1');
    expect(metrics).toContain('spillway_config_reloads_total{result="invalid"} 1');
    expect(metrics).toContain('spillway_config_last_reload_successful 0');
    const refused = await api(url, 'GET', '/v1/audit?class=operator&limit=1000');
    expect(refused.body.entries.map((e: { message: string }) => e.message).join('\n')).toContain(
      `config reload refused, running config kept: ${file}:${line}:`,
    );

    // Fixed and asked for by signal (SIGHUP calls reload): valid again, nothing changed.
    await writeFile(file, fileText({ maxShare: 0.2, steps: [0.1, 0.2] }));
    await watcher.reload('signal');
    expect(running.reloads.lastError).toBeNull();
    expect(await registry.metrics()).toContain('spillway_config_last_reload_successful 1');
  });
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

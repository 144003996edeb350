import { describe, expect, it } from 'vitest';
import { ConfigFileWatcher, type ConfigReload } from '../src/index.js';

const policy = (service: string) =>
  `  - service: ${service}\n    capacity: { replicasAtFullShare: 10, maxReplicas: 10, maxNodes: 2 }\n`;
const whole = `policies:\n${policy('checkout.shop')}${policy('cart.shop')}`;
/** What a reader sees while a writer is half done: still valid YAML, one policy short. */
const halfWritten = `policies:\n${policy('checkout.shop')}`;

/** A file whose reads return `texts` in turn, then the last one for ever. */
function scriptedReads(texts: readonly string[]): () => Promise<string> {
  let next = 0;
  return async () => texts[Math.min(next++, texts.length - 1)]!;
}

describe('ConfigFileWatcher', () => {
  it('does not apply a file read while it was being written: it waits until the text holds still', async () => {
    const reloads: ConfigReload[] = [];
    const watcher = new ConfigFileWatcher({
      file: '/etc/spillway/spillway.yaml',
      initialText: '',
      debounceMs: 5,
      readText: scriptedReads([halfWritten, whole]),
      onReload: (reload) => {
        reloads.push(reload);
      },
    });
    await watcher.reload('file');
    // The half-written read was followed by another text: the watcher waits for quiet, then reads again.
    await expect.poll(() => reloads.length).toBe(1);
    const [reload] = reloads;
    expect(reload?.ok).toBe(true);
    if (!reload?.ok) return;
    expect(reload.config.policies.map((p) => p.service)).toEqual(['checkout.shop', 'cart.shop']);
    watcher.stop();
  });

  it('a signal reloads what is there at once', async () => {
    const reloads: ConfigReload[] = [];
    const watcher = new ConfigFileWatcher({
      file: '/etc/spillway/spillway.yaml',
      initialText: whole,
      readText: scriptedReads([halfWritten, whole]),
      onReload: (reload) => {
        reloads.push(reload);
      },
    });
    await watcher.reload('signal');
    expect(reloads).toHaveLength(1);
    expect(reloads[0]?.ok && reloads[0].config.policies).toHaveLength(1);
    watcher.stop();
  });
});

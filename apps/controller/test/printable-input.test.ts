import { afterEach, describe, expect, it } from 'vitest';
import { api, postBurst, startHarness, TOKENS } from './controller-harness.js';

let harness: Awaited<ReturnType<typeof startHarness>> | undefined;
afterEach(async () => {
  await harness?.stop();
  harness = undefined;
});

/** A minimal Alertmanager v4 notification with one firing alert carrying `labels`. */
function notification(labels: Record<string, string>) {
  return {
    version: '4',
    groupKey: '{}:{alertname="SLOBurnRateHigh"}',
    status: 'firing',
    receiver: 'spillway',
    groupLabels: {},
    commonLabels: {},
    commonAnnotations: {},
    externalURL: 'http://alertmanager:9093',
    alerts: [
      { status: 'firing', labels, annotations: {}, startsAt: '2026-01-01T00:00:00Z', endsAt: '0001-01-01T00:00:00Z' },
    ],
  };
}

describe('free text the burst API stores and shows again must be printable', () => {
  it('a reason with a terminal escape or a lone surrogate is a 400 naming reason; nothing is started', async () => {
    harness = await startHarness();
    for (const reason of ['surge \u001b[2J\u001b[Hall clear', 'surge \ud83d']) {
      const answer = await postBurst(harness.url, { share: 0.3, reason });
      expect(answer.status).toBe(400);
      expect(answer.type).toContain('application/problem+json');
      expect(answer.body.detail).toMatch(
        /^reason: must be printable text: a (control character U\+001B|lone surrogate U\+D83D)/,
      );
    }
    const listed = await api(harness.url, 'GET', '/v1/bursts?active=false');
    expect(listed.body.bursts).toEqual([]);
    expect(harness.traffic.get('checkout.shop')?.cloudShare ?? 0).toBe(0);
  });

  it('an abort reason with a control character is a 400 naming reason', async () => {
    harness = await startHarness();
    const answer = await api(harness.url, 'POST', '/v1/bursts/b-1/abort', { reason: 'stop\u0007' }, TOKENS.operator);
    expect(answer.status).toBe(400);
    expect(answer.body.detail).toMatch(/^reason: must be printable text: a control character U\+0007/);
  });

  it('an Alertmanager label with a control character is a 400 naming the label', async () => {
    harness = await startHarness();
    const answer = await api(
      harness.url,
      'POST',
      '/v1/alerts/alertmanager',
      notification({ alertname: 'SLOBurnRateHigh\u001b]0;x\u0007', service: 'checkout' }),
      TOKENS.webhook,
    );
    expect(answer.status).toBe(400);
    expect(answer.body.detail).toMatch(/alerts\[0\]\.labels\.alertname: must be printable text/);
  });
});

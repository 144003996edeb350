import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Registry } from '@spillway/observability';
import { afterEach, describe, expect, it } from 'vitest';
import {
  AlertmanagerApiClient,
  AlertmanagerApiError,
  AlertmanagerGroupMembers,
  parseAlertmanagerWebhook,
} from '../src/index.js';

/**
 * The Alertmanager API client's failures, against a loopback HTTP server that misbehaves on
 * purpose (the happy path runs against the real Alertmanager 0.25 in
 * apps/controller/test/alertmanager-truncation.e2e.test.ts).
 */

let server: Server | undefined;
const requests: string[] = [];

afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  server = undefined;
  requests.length = 0;
});

async function serve(handler: (request: IncomingMessage, response: ServerResponse) => void): Promise<string> {
  server = createServer((request, response) => {
    requests.push(request.url ?? '');
    handler(request, response);
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const group = { labels: { alertname: 'Burn "x"' }, receiver: 'spillway.v2' };
const alert = (service: string, state = 'active') => ({
  labels: { alertname: 'Burn "x"', service },
  annotations: {},
  startsAt: '2026-12-04T10:00:00.123456789Z',
  endsAt: '2026-12-04T10:05:00Z',
  updatedAt: '2026-12-04T10:00:30Z',
  fingerprint: `f${service.length}`,
  receivers: [{ name: 'spillway.v2' }],
  status: { state, silencedBy: [], inhibitedBy: [] },
});

describe('AlertmanagerApiClient', () => {
  it('asks for the active, unsilenced alerts of the group and receiver, and returns them as firing', async () => {
    const url = await serve((_, response) => {
      response.setHeader('content-type', 'application/json');
      // A proxy that ignored the filter: the alert of another group is dropped on our side too.
      response.end(
        JSON.stringify([
          alert('cart.shop'),
          alert('x', 'suppressed'),
          { ...alert('y'), labels: { alertname: 'Other' } },
        ]),
      );
    });
    const members = await new AlertmanagerApiClient().activeMembers(`${url}/`, group);
    expect(members).toEqual([
      expect.objectContaining({ status: 'firing', endsAt: null, fingerprint: 'f9', labels: alert('cart.shop').labels }),
    ]);
    const asked = new URL(requests[0]!, url);
    expect(asked.pathname).toBe('/api/v2/alerts');
    expect(asked.searchParams.getAll('filter')).toEqual(['alertname="Burn \\"x\\""']);
    expect(Object.fromEntries([...asked.searchParams].filter(([k]) => k !== 'filter'))).toEqual({
      active: 'true',
      silenced: 'false',
      inhibited: 'false',
      unprocessed: 'false',
      receiver: 'spillway\\.v2',
    });
  });

  it.each([
    ['a 500', (_: IncomingMessage, r: ServerResponse) => r.writeHead(500).end('boom'), /answered 500/],
    ['not JSON', (_: IncomingMessage, r: ServerResponse) => r.end('<html>'), /not JSON/],
    ['a wrong shape', (_: IncomingMessage, r: ServerResponse) => r.end('[{"labels":{}}]'), /unexpected body at \[0\]/],
    [
      'too large',
      (_: IncomingMessage, r: ServerResponse) => r.end(JSON.stringify([alert('a'.repeat(5000))])),
      /maxContentLength|size/i,
    ],
    ['no answer in time', () => undefined, /timeout|ETIMEDOUT|ECONNABORTED/i],
  ])('%s is an AlertmanagerApiError, counted', async (_, handler, message) => {
    const url = await serve(handler);
    const registry = new Registry();
    const client = new AlertmanagerApiClient({ timeoutMs: 300, maxBytes: 4096, registry });
    const failure = await client.activeMembers(url, group).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(AlertmanagerApiError);
    expect((failure as Error).message).toMatch(message);
    expect(await registry.metrics()).toContain('spillway_alertmanager_api_queries_total{outcome="error"} 1');
  });
});

describe('AlertmanagerGroupMembers: where Alertmanager is', () => {
  const notification = (externalURL: string) =>
    parseAlertmanagerWebhook({
      version: '4',
      groupKey: 'g',
      status: 'firing',
      truncatedAlerts: 1,
      externalURL,
      groupLabels: group.labels,
      alerts: [],
    });

  it('a configured URL wins over the notification; the externalURL is used only when it is plain http(s)', async () => {
    const url = await serve((_, r) => r.end('[]'));
    const client = new AlertmanagerApiClient({ timeoutMs: 1_000 });
    await new AlertmanagerGroupMembers({ url, useExternalUrl: true, client }).of(
      notification('http://elsewhere.invalid'),
    );
    expect(requests).toHaveLength(1);
    await new AlertmanagerGroupMembers({ useExternalUrl: true, client }).of(notification(`${url}/`));
    expect(requests).toHaveLength(2);
    const members = (externalURL: string, useExternalUrl = true) =>
      new AlertmanagerGroupMembers({ useExternalUrl, client }).of(notification(externalURL));
    await expect(members(url, false)).rejects.toThrow(/no Alertmanager URL configured/);
    await expect(members('file:///etc/passwd')).rejects.toThrow(/not http/);
    await expect(members('http://user:secret@127.0.0.1:1')).rejects.toThrow(/credentials/);
    await expect(members('not a url')).rejects.toThrow(/not a URL/);
    expect(requests).toHaveLength(2);
  });
});

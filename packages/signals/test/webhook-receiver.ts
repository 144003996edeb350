import { createServer, type IncomingHttpHeaders } from 'node:http';
import { closeServer, listenOnLoopback } from '@spillway/test/support/http';

export interface Delivery {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** The body as JSON, or the raw text when it did not parse. */
  body: unknown;
}

/** Stands in for Spillway's `POST /v1/alerts/alertmanager`: records every delivery, answers 200. */
export interface WebhookReceiver {
  /** The webhook URL to give Alertmanager. */
  readonly url: string;
  readonly deliveries: Delivery[];
  close(): Promise<void>;
}

export async function startWebhookReceiver(path = '/v1/alerts/alertmanager'): Promise<WebhookReceiver> {
  const deliveries: Delivery[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        // Kept as text: the test's assertion will say what arrived.
      }
      deliveries.push({ method: request.method ?? '', path: request.url ?? '', headers: request.headers, body });
      response.writeHead(200).end();
    });
  });
  const base = await listenOnLoopback(server);
  return { url: `${base}${path}`, deliveries, close: () => closeServer(server) };
}

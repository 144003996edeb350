import { request } from 'node:http';
import * as Api from '@spillway/api';
import {
  HOW_TO_DOCUMENT,
  openApiProblems,
  ResponseChecker,
  undocumentedRoutes,
} from '@spillway/api/test-support/openapi-check';
import { expect } from 'vitest';

type Json = Record<string, unknown>;

const CONTRACTS = Object.values(Api as Record<string, unknown>).filter(Api.isRouteContract);

export interface CallOptions {
  readonly token?: string;
  /** JSON unless `contentType` says otherwise (a string is sent as it is). */
  readonly body?: unknown;
  readonly contentType?: string;
  readonly headers?: Record<string, string>;
}

export interface Answered {
  readonly status: number;
  readonly body: unknown;
  readonly headers: Headers;
}

/**
 * A running server's API, held to its own document: every answer is checked against the OpenAPI
 * document the server serves, with `additionalProperties: false` on responses (so a field sent but
 * not documented is a problem too). Problems are collected; `expectConformance` asserts none.
 */
export class ConformingApi {
  readonly problems: string[] = [];
  private checker: ResponseChecker | undefined;
  private served: Json | undefined;

  constructor(readonly baseUrl: string) {}

  /** Reads GET /openapi.json: valid OpenAPI 3.1, no route left undocumented. */
  async loadDocument(expectedTitle: RegExp): Promise<Json> {
    const response = await fetch(`${this.baseUrl}/openapi.json`);
    expect(response.status).toBe(200);
    const served = (await response.json()) as Json;
    expect(undocumentedRoutes(served), HOW_TO_DOCUMENT).toEqual([]);
    expect(await openApiProblems(served)).toEqual([]);
    expect((served.info as Json).title).toMatch(expectedTitle);
    this.served = served;
    // The same contracts, closed: the served document lets a newer server add fields, this check does not.
    const operationIds = new Set(operations(served).map((operation) => operation.operationId));
    const closed = Api.buildOpenApiDocument(
      CONTRACTS.filter((contract) => operationIds.has(contract.operationId)),
      { title: 'closed', version: '0', closedResponses: true },
    );
    expect(operations(closed).length).toBe(operationIds.size);
    this.checker = new ResponseChecker(closed);
    await this.call('GET', '/openapi.json');
    return served;
  }

  async call(method: string, path: string, options: CallOptions = {}): Promise<Answered> {
    if (!this.checker) throw new Error('loadDocument first');
    const headers: Record<string, string> = { ...options.headers };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    let body: string | undefined;
    if (options.body !== undefined) {
      headers['content-type'] = options.contentType ?? 'application/json';
      body = typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
    }
    const response = options.headers?.host
      ? await requestWithHost(`${this.baseUrl}${path}`, method, headers)
      : await fetch(`${this.baseUrl}${path}`, { method, headers, ...(body !== undefined ? { body } : {}) });
    const contentType = response.headers.get('content-type');
    const text = await response.text();
    const parsed = contentType?.includes('json') ? JSON.parse(text) : text;
    this.problems.push(
      ...this.checker.problems({ method, url: path, status: response.status, contentType, body: parsed }),
    );
    return { status: response.status, body: parsed, headers: response.headers };
  }

  /**
   * No answer broke the document, and every operation answered its success at least once
   * (`notRun`: operations, as `METHOD /path/{param}`, another test runs to success).
   */
  expectConformance(options: { notRun?: readonly string[] } = {}): void {
    expect(this.problems).toEqual([]);
    const seen = this.checker?.seen ?? new Set<string>();
    const missing = operations(this.served ?? {})
      .filter((operation) => !options.notRun?.includes(operation.key))
      .filter(
        (operation) =>
          !Object.keys(operation.responses).some(
            (status) => /^2/.test(status) && seen.has(`${operation.key} ${status}`),
          ),
      )
      .map((operation) => operation.key);
    expect(missing, 'operations never answered with success in this test').toEqual([]);
  }

  /** Statuses answered per operation (`METHOD /path status`), for a test that wants some errors covered. */
  seen(): ReadonlySet<string> {
    return this.checker?.seen ?? new Set();
  }
}

/** fetch() sends its own Host header; node:http sends the one given (DNS rebinding is about that header). */
function requestWithHost(url: string, method: string, headers: Record<string, string>): Promise<Response> {
  return new Promise((resolve, reject) => {
    const sent = request(url, { method, headers }, (answer) => {
      const chunks: Buffer[] = [];
      answer.on('data', (chunk: Buffer) => chunks.push(chunk));
      answer.on('end', () => {
        const responseHeaders = new Headers();
        for (const [name, value] of Object.entries(answer.headers)) {
          if (typeof value === 'string') responseHeaders.set(name, value);
        }
        resolve(new Response(Buffer.concat(chunks), { status: answer.statusCode ?? 0, headers: responseHeaders }));
      });
    });
    sent.on('error', reject);
    sent.end();
  });
}

function operations(document: Json): { key: string; operationId: string; responses: Json }[] {
  const paths = (document.paths ?? {}) as Record<string, Record<string, Json>>;
  return Object.entries(paths).flatMap(([path, byMethod]) =>
    Object.entries(byMethod).map(([method, operation]) => ({
      key: `${method.toUpperCase()} ${path}`,
      operationId: operation.operationId as string,
      responses: operation.responses as Json,
    })),
  );
}

import {
  ConsolePageRoute,
  ConsoleScriptRoute,
  ConsoleShippedDrillsRoute,
  ConsoleStylesRoute,
  type RouteContract,
  routeOptions,
} from '@spillway/api';
import { sendProblem } from '@spillway/observability';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { CONSOLE_ASSETS, type ConsoleAsset } from './console-assets.js';
import { CONSOLE_SECURITY_HEADERS, type ConsolePage, consoleHtml } from './console-page.js';

export interface ConsoleOptions {
  /** The pages whose data this process serves; the others are hidden. */
  readonly pages: readonly ConsolePage[];
  /** The built files; default: the ones the build put in the bundle (none when run from sources). */
  readonly assets?: ReadonlyMap<string, ConsoleAsset>;
}

/** The built files the page loads, each a route of its own (contracts in packages/api). */
const FILES: readonly (readonly [string, RouteContract])[] = [
  ['app.js', ConsoleScriptRoute],
  ['app.css', ConsoleStylesRoute],
  ['shipped-drills.json', ConsoleShippedDrillsRoute],
];

/**
 * `GET /ui` (the page) and `GET /ui/assets/…` (its built files). They carry no data, so they are
 * open like /healthz (access `public`; the auth hook still applies its Host check); every datum
 * the console shows comes from the JSON API, asked with the token the user typed in.
 */
export function registerConsole(app: FastifyInstance, options: ConsoleOptions): void {
  const assets = options.assets ?? CONSOLE_ASSETS;
  const html = consoleHtml(options.pages);
  app.get(ConsolePageRoute.url, routeOptions(ConsolePageRoute), async (_request, reply) => {
    if (!assets) return notBuilt(reply);
    return secure(reply).header('cache-control', 'no-store').type('text/html; charset=utf-8').send(html);
  });
  for (const [name, contract] of FILES) {
    app.get(contract.url, routeOptions(contract), async (request, reply) => {
      const asset = assets?.get(name);
      if (!asset) return notBuilt(reply);
      secure(reply).header('etag', asset.etag).header('cache-control', 'no-cache');
      if (request.headers['if-none-match'] === asset.etag) return reply.code(304).send();
      return reply.type(asset.contentType).send(asset.body);
    });
  }
}

function secure(reply: FastifyReply): FastifyReply {
  return reply.headers(CONSOLE_SECURITY_HEADERS);
}

function notBuilt(reply: FastifyReply): FastifyReply {
  return sendProblem(reply, {
    title: 'Service Unavailable',
    status: 503,
    detail: 'the console is not in this build: run `npm run build` and start the compiled spillway command',
  });
}

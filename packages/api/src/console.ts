import { z } from 'zod';
import { defineRoute, json, problem, type ResponseSpec } from './route-contract.js';

/** The drills of infra/drills, offered by the console's drill form (built in at build time). */
export const ShippedDrills = z.object({
  drills: z.array(z.object({ file: z.string().describe('its name under infra/drills'), yaml: z.string() })),
});
export type ShippedDrills = z.infer<typeof ShippedDrills>;

const NOT_BUILT = problem('the console is not in this build (run from sources): run `npm run build`');
const UNCHANGED: ResponseSpec = { description: 'unchanged since the ETag given in If-None-Match' };

/** The console's page and files carry no data: open like /healthz (docs/console.md). */
export const ConsolePageRoute = defineRoute({
  method: 'GET',
  url: '/ui',
  operationId: 'getConsole',
  summary: 'The operator console (HTML); it reads and acts through this API with the token typed into it',
  tag: 'console',
  access: 'public',
  responses: { 200: { description: 'the page', contentType: 'text/html; charset=utf-8' }, 503: NOT_BUILT },
});

export const ConsoleScriptRoute = defineRoute({
  method: 'GET',
  url: '/ui/assets/app.js',
  operationId: 'getConsoleScript',
  summary: "The console's script (an ES module)",
  tag: 'console',
  access: 'public',
  responses: {
    200: { description: 'the script', contentType: 'text/javascript; charset=utf-8' },
    304: UNCHANGED,
    503: NOT_BUILT,
  },
});

export const ConsoleStylesRoute = defineRoute({
  method: 'GET',
  url: '/ui/assets/app.css',
  operationId: 'getConsoleStyles',
  summary: "The console's stylesheet",
  tag: 'console',
  access: 'public',
  responses: {
    200: { description: 'the stylesheet', contentType: 'text/css; charset=utf-8' },
    304: UNCHANGED,
    503: NOT_BUILT,
  },
});

export const ConsoleShippedDrillsRoute = defineRoute({
  method: 'GET',
  url: '/ui/assets/shipped-drills.json',
  operationId: 'getShippedDrills',
  summary: 'The drills shipped in infra/drills, as the console offers them',
  tag: 'console',
  access: 'public',
  responses: { 200: json(ShippedDrills, 'every shipped drill file'), 304: UNCHANGED, 503: NOT_BUILT },
});

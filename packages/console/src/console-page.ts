/** The console's pages; a process shows only those whose API it serves. */
export const CONSOLE_PAGES = ['bursts', 'drills', 'fleet', 'services', 'xds'] as const;
export type ConsolePage = (typeof CONSOLE_PAGES)[number];

/**
 * The one HTML document of the console. Its only dynamic part is the list of pages, in a data
 * attribute: no inline script or style, so the Content-Security-Policy can forbid both.
 */
export function consoleHtml(pages: readonly ConsolePage[]): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Spillway console</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/ui/assets/app.css">
<script type="module" src="/ui/assets/app.js"></script>
</head>
<body data-pages="${pages.join(' ')}">
<noscript>The Spillway console needs JavaScript; the same data is on the JSON API (/v1/…) and the spillway command.</noscript>
<div id="app"></div>
</body>
</html>
`;
}

/** Sent with every console response: nothing but this origin's own files and API. */
export const CONSOLE_SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; '),
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
};

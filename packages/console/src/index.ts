export * from './console-assets.js';
export * from './console-page.js';
export * from './console-routes.js';

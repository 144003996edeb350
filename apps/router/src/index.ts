export * from './catalog-freshness.js';
export * from './catalog-snapshot-file.js';
export * from './eds-routes.js';
export * from './fleet-load-publisher.js';
export * from './load-routes.js';
export * from './overrides/index.js';
export * from './router-http-server.js';
export * from './router-service.js';

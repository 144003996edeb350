export * from './overrides/index.js';
export * from './router-http-server.js';
export * from './router-service.js';

export * from './federation-service.js';
export * from './http/catalog-routes.js';
export * from './summary.js';

export * from './burst-controller.js';
export * from './burst-state-schema.js';
export * from './controller-service.js';
export * from './redis-stores.js';

export * from './burst-policy.js';
export * from './catalog.js';
export * from './endpoint.js';
export * from './locality.js';
export * from './mesh-security.js';
export * from './policy.js';
export * from './service.js';
export * from './source.js';

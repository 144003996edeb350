export * from './catalog-store.js';
export * from './change-history.js';
export * from './layered-map.js';
export * from './liveness.js';
export * from './merge.js';
export * from './remote-catalog.js';

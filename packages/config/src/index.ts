export * from './config-file-watcher.js';
export * from './defaults.js';
export * from './errors.js';
export * from './load.js';
export * from './reload-plan.js';
export * from './schema.js';

export * from './apply-overrides.js';
export * from './overridden-readers.js';
export * from './router-override.js';
export * from './router-overrides.js';

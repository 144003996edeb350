export * from './client-agent.js';
export * from './https-server.js';
export * from './watched-key-pair.js';

export * from './fastify-auth.js';
export * from './generated-admin-token.js';
export * from './loopback.js';
export * from './tokens.js';

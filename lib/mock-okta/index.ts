/** The simulated Okta org: server, events and OAuth verification. */
export * from './server';
export * from './events';
export * from './oauth';
export * from './dpop';

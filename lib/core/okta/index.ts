/** The Okta System Log client: org validation, credentials, the page source, and its errors. */
export * from './errors';
export * from './org';
export * from './credentials';
export * from './link';
export { DpopError, DpopKey, accessTokenHash, htuOf, jwkThumbprint, processDpopKey, type PublicEcJwk } from './dpop';
export * from './client';
export { RateLimitPacer, headerInt, type RateLimitPacerOptions, type RateLimitState } from './rate-limit';
export { RetryBudget, RetryPolicy, type RetryPolicyOptions } from './retry-policy';

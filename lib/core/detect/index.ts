/** The detection runner: domain logic and ports (no AWS SDK here; adapters live in lib/adapters). */
export * from './errors';
export * from './ports';
export * from './input';
export * from './fingerprint';
export * from './message';
export * from './engine';
export * from './plan';
export * from './evaluate';
export * from './run';
export * from './suppression';
export * from './memory-suppression-store';
export * from './memory-cursor-store';

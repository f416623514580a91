export * from './compact';
export * from './errors';
export * from './files';
export * from './records';
export * from './sink-state';
export * from './state';
export * from './verify';
export * from './workspace';

export * from './clock';
export * from './spans';
export * from './stage-times';
export * from './trace-context';

export * from './problem-codes';
export * from './problem-error';
export * from './problems';

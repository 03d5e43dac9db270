export * from './download';
export * from './model-puller';
export * from './progress-reporter';
export * from './first-start-pull';

export * from './heatmap';
export * from './occlusion';

export * from './image-decoder';
export * from './image-sniffer';
export * from './pixel-limit';

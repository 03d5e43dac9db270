export * from './image-decoder';
export * from './image-sniffer';
export * from './pixel-limit';
export { TURBOJPEG_LIBRARY } from './turbojpeg';

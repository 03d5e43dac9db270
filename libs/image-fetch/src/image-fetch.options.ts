import { ConfigurableModuleBuilder } from '@nestjs/common';

export interface ImageFetchOptions {
  /** Largest image accepted from any source, in bytes. */
  maxBytes: number;
  connectTimeoutMs: number;
  /** Whole download, all redirects included. */
  totalTimeoutMs: number;
  maxRedirects: number;
  /** Ports a URL may use unless its host is on the allowlist. */
  allowedPorts: readonly number[];
  /** Host names, IP addresses or CIDR ranges that may be fetched even though they are private (any port). */
  allowHosts: readonly string[];
}

export const DEFAULT_IMAGE_FETCH_OPTIONS: ImageFetchOptions = {
  maxBytes: 10 * 1024 * 1024,
  connectTimeoutMs: 3_000,
  totalTimeoutMs: 10_000,
  maxRedirects: 3,
  allowedPorts: [80, 443],
  allowHosts: [],
};

export const {
  ConfigurableModuleClass: ConfigurableImageFetchModule,
  MODULE_OPTIONS_TOKEN: IMAGE_FETCH_OPTIONS,
} = new ConfigurableModuleBuilder<ImageFetchOptions>()
  .setClassMethodName('forRoot')
  .setExtras({ isGlobal: true }, (definition, extras) => ({ ...definition, global: extras.isGlobal }))
  .build();

import { type DynamicModule, Module, type Provider } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { ThrottlerModule } from '@nestjs/throttler';
import { ApiKeyGuard } from './api-key.guard';
import { ApiKeySet } from './api-key-set';
import { rateLimitTracker } from './rate-limit-tracker';
import { RateLimitGuard } from './rate-limit.guard';

export interface SecuritySettings {
  /** API_KEYS; empty leaves the API open. */
  apiKeys: readonly string[];
  /** RATE_LIMIT_PER_MINUTE; 0 turns rate limiting off. */
  rateLimitPerMinute: number;
}

const MINUTE_MS = 60_000;

/** The optional protections, off by default: API keys, then rate limiting (guards run in that order). */
@Module({})
export class SecurityModule {
  static forRoot(settings: SecuritySettings): DynamicModule {
    const keys = new ApiKeySet(settings.apiKeys);
    const providers: Provider[] = [{ provide: ApiKeySet, useValue: keys }];
    if (keys.enabled) providers.push({ provide: APP_GUARD, useClass: ApiKeyGuard });
    const imports: DynamicModule[] = [];
    if (settings.rateLimitPerMinute > 0) {
      imports.push(
        ThrottlerModule.forRoot({
          throttlers: [{ name: 'default', ttl: MINUTE_MS, limit: settings.rateLimitPerMinute }],
          getTracker: rateLimitTracker(keys),
          generateKey: (_context, tracker, name) => `${name}:${tracker}`,
        }),
      );
      providers.push({ provide: APP_GUARD, useClass: RateLimitGuard });
    }
    return { module: SecurityModule, imports, providers };
  }
}

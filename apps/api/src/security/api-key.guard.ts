import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request, Response } from 'express';
import { problem } from '@app/problem';
import { ApiKeySet, presentedApiKey } from './api-key-set';
import { PUBLIC_ENDPOINT } from './public-endpoint.decorator';

export const WWW_AUTHENTICATE = 'Bearer realm="food-vision", error="invalid_token"';

/** Requires one of API_KEYS on every operation except @PublicEndpoint ones; registered only when keys are set. */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(
    private readonly keys: ApiKeySet,
    private readonly reflector: Reflector,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    if (context.getType() !== 'http') return true;
    if (
      this.reflector.getAllAndOverride<boolean>(PUBLIC_ENDPOINT, [context.getHandler(), context.getClass()])
    )
      return true;
    const http = context.switchToHttp();
    const key = presentedApiKey(http.getRequest<Request>().headers);
    if (key !== undefined && this.keys.matches(key)) return true;
    http.getResponse<Response>().setHeader('WWW-Authenticate', WWW_AUTHENTICATE);
    throw problem(
      'unauthorized',
      key === undefined
        ? 'This API requires a key: send it in the X-API-Key header, or as Authorization: Bearer <key>.'
        : 'The API key is not valid: check it, or ask the operator of this service for one.',
    );
  }
}

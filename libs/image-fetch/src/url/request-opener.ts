import type { ClientRequest, RequestOptions } from 'node:http';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

/** What the fetcher passes to open one request: already pinned to a checked IP address. */
export type PinnedRequestOptions = RequestOptions & { host: string; servername?: string };

/** Opens one HTTP(S) request; injectable so tests can prove a refused URL never reaches a socket. */
export type RequestOpener = (url: URL, options: PinnedRequestOptions) => ClientRequest;

export const REQUEST_OPENER = Symbol('REQUEST_OPENER');

export const nodeRequestOpener: RequestOpener = (url, options) =>
  url.protocol === 'https:' ? httpsRequest(options) : httpRequest(options);

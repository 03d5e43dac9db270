import type { ContentMode } from './prediction-log-settings';
import type { PredictionCloudEvent } from './prediction-events';

/** One HTTP request that carries one event. */
export interface HttpMessage {
  headers: Record<string, string>;
  body: string;
}

/** The JSON event format's media type (CloudEvents JSON format, section 3). */
export const STRUCTURED_CONTENT_TYPE = 'application/cloudevents+json; charset=utf-8';

/**
 * The CloudEvents 1.0 HTTP protocol binding (http-protocol-binding.md, section 3). Binary mode (3.1): the data is
 * the body, `datacontenttype` is the Content-Type, and every other attribute is a `ce-<name>` header,
 * percent-encoded (3.1.3.2). Structured mode (3.2): the whole event in the JSON event format, with the data as a
 * JSON value (the data content type is JSON).
 */
export function httpMessage(event: PredictionCloudEvent, mode: ContentMode): HttpMessage {
  if (mode === 'structured') {
    return {
      headers: { 'content-type': STRUCTURED_CONTENT_TYPE },
      body: JSON.stringify({ ...event.attributes, data: event.data }),
    };
  }
  const headers: Record<string, string> = { 'content-type': event.attributes.datacontenttype };
  for (const [name, value] of Object.entries(event.attributes)) {
    if (name !== 'datacontenttype') headers[`ce-${name}`] = percentEncode(value);
  }
  return { headers, body: JSON.stringify(event.data) };
}

/**
 * A header value as section 3.1.3.2 asks: space, double quote, percent, and anything outside printable ASCII
 * (U+0021..U+007E) become `%XY` for each byte of their UTF-8 encoding, upper-case hex.
 */
export function percentEncode(value: string): string {
  let encoded = '';
  for (const character of value) {
    const code = character.codePointAt(0)!;
    if (code > 0x20 && code < 0x7f && character !== '"' && character !== '%') {
      encoded += character;
      continue;
    }
    for (const byte of Buffer.from(character, 'utf8')) {
      encoded += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
    }
  }
  return encoded;
}

import {
  effectivePort,
  HostAllowlist,
  isInternalHostName,
  isPublicAddress,
  parseAddress,
  parseImageUrl,
  type HostResolver,
  type IpAddress,
  type ResolvedAddress,
} from '@app/image-fetch';
import { problem } from '@app/problem';

/** The image URLs' address policy, applied to the completion webhook: the same allowlist and ports. */
export interface WebhookRules {
  allowHosts: readonly string[];
  allowedPorts: readonly number[];
}

const FORBIDDEN =
  'The webhook URL points to a private, loopback, link-local or otherwise internal address, which this service does not send to (the same policy as image URLs): use a publicly reachable URL, or ask the operator to add the host to IMAGE_FETCH_ALLOW_HOSTS.';

/**
 * Checks a webhook URL as the image fetcher checks an image URL, without sending anything: http(s), no
 * credentials, not an internal name, not a private address literal, an allowed port. Throws the same problems
 * (`invalid_url`, `url_scheme_not_allowed`, `url_forbidden_address`, `url_port_not_allowed`, ...).
 */
export function checkWebhookUrl(raw: string, rules: WebhookRules): URL {
  const url = parseImageUrl(raw);
  const allowlist = new HostAllowlist(rules.allowHosts);
  const literal = parseAddress(url.hostname);
  const allowed = literal ? allowlist.allowsAddress(literal) : allowlist.allowsName(url.hostname);
  if (!allowed) {
    if (literal ? !isPublicAddress(literal) : isInternalHostName(url.hostname)) {
      throw problem('url_forbidden_address', FORBIDDEN);
    }
    checkPort(url, rules);
  }
  return url;
}

/**
 * The addresses the webhook may be sent to, resolved once: every answer must be public (or allowlisted), and the
 * request then connects to one of these, never resolving the name again (no DNS rebinding between check and send).
 */
export async function webhookAddresses(
  url: URL,
  rules: WebhookRules,
  resolve: HostResolver,
): Promise<ResolvedAddress[]> {
  const allowlist = new HostAllowlist(rules.allowHosts);
  const literal = parseAddress(url.hostname);
  const nameAllowed = !literal && allowlist.allowsName(url.hostname);
  if (!literal && !nameAllowed && isInternalHostName(url.hostname))
    throw problem('url_forbidden_address', FORBIDDEN);
  let addresses: IpAddress[];
  if (literal) {
    addresses = [literal];
  } else {
    const answers: ResolvedAddress[] = await resolve(url.hostname).catch(() => []);
    if (answers.length === 0) {
      throw problem('url_unresolvable', `The webhook host "${url.hostname}" does not resolve.`);
    }
    addresses = answers.map((answer) => {
      const address = parseAddress(answer.address);
      if (!address) throw problem('url_forbidden_address', FORBIDDEN);
      return address;
    });
  }
  const allowlisted = (address: IpAddress): boolean => nameAllowed || allowlist.allowsAddress(address);
  if (!addresses.every((address) => allowlisted(address) || isPublicAddress(address))) {
    throw problem('url_forbidden_address', FORBIDDEN);
  }
  if (!addresses.every(allowlisted)) checkPort(url, rules);
  return addresses.map((address) => ({
    address: address.toString(),
    family: address.kind() === 'ipv4' ? 4 : 6,
  }));
}

function checkPort(url: URL, rules: WebhookRules): void {
  const port = effectivePort(url);
  if (!rules.allowedPorts.includes(port)) {
    throw problem(
      'url_port_not_allowed',
      `The webhook URL uses port ${port}; only ports ${rules.allowedPorts.join(', ')} are allowed.`,
    );
  }
}

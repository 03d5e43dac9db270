import { problem, ProblemError } from '@app/problem';
import { inSpan } from '@app/telemetry';
import {
  addressFamily,
  HostAllowlist,
  isPublicAddress,
  parseAddress,
  type IpAddress,
} from './address-policy';
import type { FetchDeadline } from './fetch-deadline';
import { isInternalHostName } from './host-name-policy';
import type { HostResolver, ResolvedAddress } from './host-resolver';
import { effectivePort } from './image-url';

export interface DestinationRules {
  allowHosts: readonly string[];
  allowedPorts: readonly number[];
}

const FORBIDDEN_DETAIL =
  'The image URL (or a redirect it led to) points to a private, loopback, link-local or otherwise internal address, which this service does not fetch from: use a publicly reachable URL, or ask the operator to add the host to IMAGE_FETCH_ALLOW_HOSTS.';

/**
 * Decides where one hop may connect. The host is resolved once, every answer (A and AAAA) is checked, and
 * the checked addresses are what the socket connects to: nothing resolves the name a second time, so a DNS
 * answer that changes between check and connect (rebinding) never matters. One forbidden answer refuses the
 * whole name, because the attacker controls which record a client would pick.
 */
export class DestinationGuard {
  private readonly allowlist: HostAllowlist;

  constructor(
    private readonly rules: DestinationRules,
    private readonly resolve: HostResolver,
  ) {
    this.allowlist = new HostAllowlist(rules.allowHosts);
  }

  /** The addresses this URL may connect to, in the resolver's order; throws the refusal otherwise. */
  async check(url: URL, deadline: FetchDeadline): Promise<ResolvedAddress[]> {
    const hostname = url.hostname;
    const literal = parseAddress(hostname);
    const nameAllowed = !literal && this.allowlist.allowsName(hostname);
    if (!literal && !nameAllowed && isInternalHostName(hostname)) throw forbidden();
    const addresses = literal ? [literal] : await this.lookup(hostname, deadline);
    const allowlisted = (address: IpAddress): boolean => nameAllowed || this.allowlist.allowsAddress(address);
    if (!addresses.every((address) => allowlisted(address) || isPublicAddress(address))) throw forbidden();
    const port = effectivePort(url);
    if (!addresses.every(allowlisted) && !this.rules.allowedPorts.includes(port)) {
      throw problem(
        'url_port_not_allowed',
        `The image URL uses port ${port}; only ports ${this.rules.allowedPorts.join(', ')} are fetched.`,
      );
    }
    return addresses.map((address) => ({ address: address.toString(), family: addressFamily(address) }));
  }

  private async lookup(hostname: string, deadline: FetchDeadline): Promise<IpAddress[]> {
    const unresolvable = (): ProblemError =>
      problem(
        'url_unresolvable',
        `The host "${hostname}" of the image URL does not resolve; check the spelling of the URL.`,
      );
    let answers: ResolvedAddress[];
    try {
      answers = await inSpan(
        'dns.lookup',
        { attributes: { 'dns.question.name': hostname } },
        async (span) => {
          const resolved = await deadline.race(this.resolve(hostname));
          span?.setAttribute('dns.answers', resolved.length);
          return resolved;
        },
      );
    } catch (error) {
      if (error instanceof ProblemError) throw error;
      throw unresolvable();
    }
    if (answers.length === 0) throw unresolvable();
    return answers.map((answer) => {
      const address = parseAddress(answer.address);
      // A resolver that answers something unparseable is refused like a forbidden address, never connected to.
      if (!address) throw forbidden();
      return address;
    });
  }
}

function forbidden(): ProblemError {
  return problem('url_forbidden_address', FORBIDDEN_DETAIL);
}

/**
 * The container HEALTHCHECK: GET /health/live on this container's port, exit 0 when it answers 200 within 2 s,
 * 1 otherwise. Needs no curl in the slim image. `node dist/apps/api/src/bin/healthcheck.js`
 */
const WILDCARD_HOSTS = new Set(['0.0.0.0', '::', '']);

export function livenessUrl(env: Record<string, string | undefined>): string {
  const host = env.HOST ?? '';
  const target = WILDCARD_HOSTS.has(host) ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  return `http://${target}:${env.PORT || '5000'}/health/live`;
}

async function main(): Promise<number> {
  try {
    const response = await fetch(livenessUrl(process.env), { signal: AbortSignal.timeout(2_000) });
    return response.status === 200 ? 0 : 1;
  } catch {
    return 1;
  }
}

if (require.main === module) {
  void main().then((code) => process.exit(code));
}

/**
 * Where the console may send a browser after sign-in: a path of the console itself. Anything
 * else (another origin, `//host`, a backslash some browsers read as a slash, a path that
 * climbs out with `..`) would make the sign-in an open redirect.
 */
export function consoleReturnPath(returnTo: string | undefined): string | undefined {
  if (returnTo === undefined || returnTo === '') return '/console/';
  if (!returnTo.startsWith('/') || returnTo.startsWith('//') || /[\\\s]/.test(returnTo))
    return undefined;
  let parsed: URL;
  try {
    parsed = new URL(returnTo, 'https://console.invalid');
  } catch {
    return undefined;
  }
  if (parsed.origin !== 'https://console.invalid') return undefined;
  const path = `${parsed.pathname}${parsed.search}${parsed.hash}`;
  // Compared after URL normalisation: `/console/../v1` is `/v1`.
  if (parsed.pathname !== '/console' && !parsed.pathname.startsWith('/console/')) return undefined;
  return path;
}

/**
 * Whether a state-changing request comes from the console's own pages: its `Origin` is the
 * configured public origin or, without one, the origin of the host the request was sent to.
 */
export function isSameOrigin(
  origin: string | undefined,
  publicUrl: string | undefined,
  host: string | undefined,
): boolean {
  if (origin === undefined || origin === 'null' || !URL.canParse(origin)) return false;
  const parsed = new URL(origin);
  if (parsed.origin !== origin) return false;
  if (publicUrl !== undefined) return origin === publicUrl;
  return host !== undefined && parsed.host === host.toLowerCase();
}

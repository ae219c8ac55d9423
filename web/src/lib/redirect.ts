/**
 * Where to go after sign-in. Only a path on this origin is accepted, so a crafted link
 * (`/login?next=https://evil.example`) cannot turn the sign-in page into an open redirect.
 */
export function safeNext(next: string | null | undefined, fallback = "/"): string {
  if (!next) return fallback;
  // Must be an absolute path, not protocol-relative (`//host`) or backslash tricks
  // (`/\host`, which browsers treat like `//host`), and free of control characters.
  if (!next.startsWith("/") || next.startsWith("//") || next.startsWith("/\\")) return fallback;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(next)) return fallback;
  try {
    const url = new URL(next, "http://oqto.invalid");
    if (url.origin !== "http://oqto.invalid") return fallback;
    if (url.pathname === "/login" || url.pathname === "/register") return fallback;
    return url.pathname + url.search + url.hash;
  } catch {
    return fallback;
  }
}

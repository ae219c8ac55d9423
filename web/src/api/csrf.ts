/**
 * Double-submit CSRF: the server sets a readable `oqto_csrf` cookie at sign-in and refuses
 * cookie-authenticated state changes unless the same value comes back in `X-CSRF-Token`.
 * Another site can make the browser send our cookies but cannot read them to copy one.
 */

export const CSRF_COOKIE = "oqto_csrf";
export const CSRF_HEADER = "X-CSRF-Token";

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

export function readCookie(cookieString: string, name: string): string | null {
  for (const part of cookieString.split(";")) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) {
      const value = part.slice(eq + 1).trim();
      try {
        return decodeURIComponent(value);
      } catch {
        return value;
      }
    }
  }
  return null;
}

export function needsCsrf(method: string): boolean {
  return !SAFE_METHODS.has(method.toUpperCase());
}

/** Headers to add to a request with `method`, given the page's cookies. */
export function csrfHeaders(method: string, cookieString: string): Record<string, string> {
  if (!needsCsrf(method)) return {};
  const token = readCookie(cookieString, CSRF_COOKIE);
  return token ? { [CSRF_HEADER]: token } : {};
}

export function currentCsrfHeaders(method: string): Record<string, string> {
  return csrfHeaders(method, typeof document === "undefined" ? "" : document.cookie);
}

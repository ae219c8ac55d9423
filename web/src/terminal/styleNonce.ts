/**
 * xterm.js sizes and colours its grid with `<style>` elements it creates at run time. The
 * page's CSP refuses inline styles unless they carry the per-response nonce the server
 * puts in `<meta name="oqto-style-nonce">`, so style elements created from now on get it.
 * Scripts stay strictly same-origin; only our own code can create elements at all.
 */
let installed = false;

type CreateElement = (this: Document, tagName: string, options?: ElementCreationOptions) => HTMLElement;

export function installStyleNonce(doc: Document = document): void {
  if (installed) return;
  const nonce = doc.querySelector<HTMLMetaElement>('meta[name="oqto-style-nonce"]')?.content;
  if (!nonce || nonce.startsWith("__")) return; // dev server: no CSP, nothing to do
  installed = true;
  // The wrapper must accept every overload, including the generic `string` one, which the
  // DOM typings mark deprecated.
  // eslint-disable-next-line @typescript-eslint/no-deprecated, @typescript-eslint/unbound-method
  const original: CreateElement = Document.prototype.createElement;
  const withNonce: CreateElement = function (this: Document, tagName, options) {
    const element = original.call(this, tagName, options);
    if (element instanceof HTMLStyleElement) element.nonce = nonce;
    return element;
  };
  // eslint-disable-next-line @typescript-eslint/no-deprecated
  doc.createElement = withNonce;
}

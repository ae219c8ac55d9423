import { useEffect } from "react";

/** The tab title names the page, which is also what screen readers announce first. */
export function useTitle(title: string): void {
  useEffect(() => {
    document.title = title ? `${title} · Oqto` : "Oqto";
  }, [title]);
}

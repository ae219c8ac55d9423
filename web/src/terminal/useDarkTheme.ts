import { useSyncExternalStore } from "react";
import { effectiveDark, type ThemeChoice } from "../lib/theme";

// The theme toggle writes the choice to <html data-theme>; "system" follows the OS.
function current(): ThemeChoice {
  const theme = document.documentElement.dataset.theme;
  return theme === "light" || theme === "dark" ? theme : "system";
}

function subscribe(onChange: () => void): () => void {
  const observer = new MutationObserver(onChange);
  observer.observe(document.documentElement, { attributes: true, attributeFilter: ["data-theme"] });
  const system = window.matchMedia("(prefers-color-scheme: dark)");
  system.addEventListener("change", onChange);
  return () => {
    observer.disconnect();
    system.removeEventListener("change", onChange);
  };
}

/** Whether the page is dark now, for what CSS cannot colour (xterm paints a canvas/DOM of its own). */
export function useDarkTheme(): boolean {
  return useSyncExternalStore(subscribe, () => effectiveDark(current()));
}

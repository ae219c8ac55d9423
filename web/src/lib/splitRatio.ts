import { useEffect, useState } from "react";
import { readStored, writeStored } from "./stored";

/** The split view's share for the first pane, remembered per browser. */
const KEY = "oqto-split-ratio";
export const DEFAULT_RATIO = 0.5;
// Whatever the window, neither pane gets less than this share (pixels are checked too).
export const MIN_RATIO = 0.15;

export function clampRatio(ratio: number, min = MIN_RATIO): number {
  return Math.min(1 - min, Math.max(min, ratio));
}

function parse(value: unknown): number | null {
  return typeof value === "number" && Number.isFinite(value) ? clampRatio(value) : null;
}

export function useSplitRatio(): [number, (ratio: number) => void] {
  const [ratio, setRatio] = useState(() => readStored(KEY, parse) ?? DEFAULT_RATIO);
  useEffect(() => writeStored(KEY, ratio), [ratio]);
  return [ratio, setRatio];
}

import { useRef, type KeyboardEvent, type PointerEvent, type RefObject } from "react";
import { clampRatio, MIN_RATIO } from "../lib/splitRatio";

const STEP = 0.05;
const MIN_PANE_PX = 240;

interface Props {
  ratio: number; // the first pane's share of the width
  onChange: (ratio: number) => void;
  container: RefObject<HTMLElement | null>;
  controls: string; // id of the first pane
}

/**
 * The draggable line between two panes: a focusable separator (arrows, Home and End move
 * it), dragged with a mouse, a pen or a finger through pointer events.
 */
export function SplitDivider({ ratio, onChange, container, controls }: Props) {
  const dragging = useRef(false);

  // The smallest share that still leaves each pane MIN_PANE_PX.
  const minimum = (): number => {
    const width = container.current?.getBoundingClientRect().width ?? 0;
    return width > 0 ? Math.min(0.5, Math.max(MIN_RATIO, MIN_PANE_PX / width)) : MIN_RATIO;
  };
  const moveTo = (clientX: number): void => {
    const box = container.current?.getBoundingClientRect();
    if (!box || box.width <= 0) return;
    onChange(clampRatio((clientX - box.left) / box.width, minimum()));
  };

  const onPointerDown = (event: PointerEvent<HTMLDivElement>): void => {
    if (event.button !== 0) return;
    event.preventDefault();
    event.currentTarget.setPointerCapture(event.pointerId);
    event.currentTarget.focus();
    dragging.current = true;
  };
  const onPointerMove = (event: PointerEvent<HTMLDivElement>): void => {
    if (dragging.current) moveTo(event.clientX);
  };
  const onPointerEnd = (event: PointerEvent<HTMLDivElement>): void => {
    dragging.current = false;
    if (event.currentTarget.hasPointerCapture(event.pointerId)) {
      event.currentTarget.releasePointerCapture(event.pointerId);
    }
  };
  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>): void => {
    const min = minimum();
    const keys: Record<string, number> = {
      ArrowLeft: ratio - STEP,
      ArrowDown: ratio - STEP,
      ArrowRight: ratio + STEP,
      ArrowUp: ratio + STEP,
      Home: min,
      End: 1 - min,
    };
    const next = keys[event.key];
    if (next === undefined) return;
    event.preventDefault();
    onChange(clampRatio(next, min));
  };

  const min = Math.round(MIN_RATIO * 100);
  return (
    <div
      className="split-divider"
      role="separator"
      aria-orientation="vertical"
      aria-label="Resize panes"
      aria-controls={controls}
      aria-valuenow={Math.round(ratio * 100)}
      aria-valuemin={min}
      aria-valuemax={100 - min}
      tabIndex={0}
      onPointerDown={onPointerDown}
      onPointerMove={onPointerMove}
      onPointerUp={onPointerEnd}
      onPointerCancel={onPointerEnd}
      onKeyDown={onKeyDown}
    />
  );
}

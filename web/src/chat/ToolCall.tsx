import { isEditTool, relativeTo, toolFileDiffs, type FileDiff } from "./diff";
import { DiffCounts, DiffView } from "./DiffView";
import type { ToolPart, ToolStatus } from "./types";
import "./chat-turns.css";

const STATUS_LABEL: Record<ToolStatus, string> = {
  pending: "Pending",
  running: "Running",
  completed: "Finished",
  error: "Failed",
};

function text(value: unknown): string | null {
  return typeof value === "string" && value ? value : null;
}

/** The argument that says what the call does (a command, a path, a pattern). */
function mainArgument(part: ToolPart): string {
  const { state } = part;
  const input = state.input ?? {};
  for (const key of ["command", "filePath", "path", "pattern", "url", "query", "description"]) {
    const value = text(input[key]);
    if (value) return value;
  }
  return state.title ?? "";
}

/** opencode stamps a tool call's start and end (epoch ms) once it runs. */
function duration(part: ToolPart): string | null {
  const time = (part.state as { time?: { start?: unknown; end?: unknown } }).time;
  if (typeof time?.start !== "number" || typeof time.end !== "number") return null;
  const seconds = (time.end - time.start) / 1000;
  return seconds < 1 ? `${Math.max(0, Math.round(seconds * 1000))} ms` : `${seconds.toFixed(1)} s`;
}

function total(diffs: FileDiff[]): FileDiff {
  return diffs.reduce(
    (sum, d) => ({ ...sum, additions: sum.additions + d.additions, deletions: sum.deletions + d.deletions }),
    {
      file: "",
      lines: [],
      additions: 0,
      deletions: 0,
    },
  );
}

/**
 * One tool call as a card: a summary line (tool, what it worked on, status, how long)
 * that opens to its input and output. A file edit also shows its diff below the line.
 */
export function ToolCall({ part, cwd }: { part: ToolPart; cwd?: string }) {
  const { state } = part;
  const isEdit = isEditTool(part.tool);
  const filePath = text(state.input?.filePath) ?? text(state.input?.path);
  const diffs = toolFileDiffs(part).map((d) => ({ ...d, file: relativeTo(d.file, cwd) }));
  const running = state.status === "running" || state.status === "pending";
  const took = duration(part);
  return (
    <div className={`tool tool-${state.status}`} data-tool={part.tool}>
      <details open={state.status === "error" || undefined}>
        <summary>
          <span className="tool-chevron" aria-hidden="true" />
          <span className="tool-name">{isEdit && filePath ? `${part.tool} ${filePath}` : part.tool}</span>
          <span className="tool-summary">
            {isEdit ? diffs.length > 0 ? <DiffCounts diff={total(diffs)} /> : null : mainArgument(part)}
          </span>
          <span
            className={`badge tool-status-${state.status}`}
            aria-label={`Tool ${STATUS_LABEL[state.status]}`}
          >
            {running ? <span className="spinner" aria-hidden="true" /> : null}
            {STATUS_LABEL[state.status]}
          </span>
          {took ? (
            <span className="tool-duration" aria-label={`took ${took}`}>
              {took}
            </span>
          ) : null}
        </summary>
        <div className="tool-body">
          <h4>Input</h4>
          <pre className="tool-input">{JSON.stringify(state.input ?? {}, null, 2)}</pre>
          {state.output ? (
            <>
              <h4>Output</h4>
              <pre className="tool-output">{state.output}</pre>
            </>
          ) : null}
          {state.error ? (
            <>
              <h4>Error</h4>
              <pre className="tool-error">{state.error}</pre>
            </>
          ) : null}
        </div>
      </details>
      {diffs.map((diff, index) => (
        <DiffView key={`${index}:${diff.file}`} diff={diff} />
      ))}
    </div>
  );
}

import type { ToolPart, ToolStatus } from "./types";

const STATUS_LABEL: Record<ToolStatus, string> = {
  pending: "Pending",
  running: "Running",
  completed: "Finished",
  error: "Failed",
};

const EDIT_TOOLS = new Set(["edit", "write", "patch", "multiedit", "apply_patch"]);

function summary(part: ToolPart): string {
  const { state } = part;
  if (state.title) return state.title;
  const input = state.input ?? {};
  for (const key of ["command", "filePath", "path", "pattern", "url", "description"]) {
    const value = input[key];
    if (typeof value === "string" && value) return value;
  }
  return "";
}

function diffLineClass(line: string): string | undefined {
  if (line.startsWith("+++") || line.startsWith("---")) return "diff-file";
  if (line.startsWith("@@")) return "diff-hunk";
  if (line.startsWith("+")) return "diff-add";
  if (line.startsWith("-")) return "diff-del";
  return undefined;
}

function text(value: unknown): string | null {
  return typeof value === "string" && value ? value : null;
}

/** One tool call: name, arguments, result and whether it is still running. */
export function ToolCall({ part }: { part: ToolPart }) {
  const { state } = part;
  const isEdit = EDIT_TOOLS.has(part.tool);
  const filePath = text(state.input?.filePath) ?? text(state.input?.path);
  const diff = text(state.metadata?.diff);
  const running = state.status === "running" || state.status === "pending";
  return (
    <details
      className={`tool tool-${state.status}`}
      data-tool={part.tool}
      open={state.status === "error" || undefined}
    >
      <summary>
        <span className="tool-name">{isEdit && filePath ? `${part.tool} ${filePath}` : part.tool}</span>
        <span className="tool-summary">{isEdit ? "" : summary(part)}</span>
        <span
          className={`badge tool-status-${state.status}`}
          aria-label={`Tool ${STATUS_LABEL[state.status]}`}
        >
          {running ? <span className="spinner" aria-hidden="true" /> : null}
          {STATUS_LABEL[state.status]}
        </span>
      </summary>
      <div className="tool-body">
        <h4>Arguments</h4>
        <pre className="tool-input">{JSON.stringify(state.input ?? {}, null, 2)}</pre>
        {diff ? (
          <>
            <h4>Changes</h4>
            <pre className="tool-diff">
              {diff.split("\n").map((line, index) => (
                <span key={index} className={diffLineClass(line)}>
                  {line}
                  {"\n"}
                </span>
              ))}
            </pre>
          </>
        ) : null}
        {state.output ? (
          <>
            <h4>Result</h4>
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
  );
}

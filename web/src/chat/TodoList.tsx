import "./chat-waiting.css";
import type { Todo, TodoStatus } from "./types";

const LABEL: Record<TodoStatus, string> = {
  pending: "to do",
  in_progress: "in progress",
  completed: "done",
  cancelled: "cancelled",
};

const MARK: Record<TodoStatus, string> = {
  pending: "○",
  in_progress: "◐",
  completed: "✓",
  cancelled: "✕",
};

/** The todo list the agent keeps for this conversation (its `todowrite` tool). */
export function TodoList({ todos }: { todos: Todo[] }) {
  if (todos.length === 0) return null;
  const done = todos.filter((t) => t.status === "completed").length;
  return (
    <details className="todos" open>
      <summary>
        Todo list <span className="todo-count">{`${done} of ${todos.length} done`}</span>
      </summary>
      <ol aria-label="The agent's todo list">
        {todos.map((todo, index) => (
          // The list has no ids: opencode replaces it whole on every change.
          <li key={index} data-status={todo.status}>
            <span className="todo-mark" aria-hidden="true">
              {MARK[todo.status]}
            </span>
            <span className="todo-text">{todo.content}</span>
            <span className="todo-status">{LABEL[todo.status]}</span>
          </li>
        ))}
      </ol>
    </details>
  );
}

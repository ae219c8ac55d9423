import { describe, expect, it } from "vitest";
import { addedFile, parsePatch, toolFileDiffs } from "./diff";
import { groupTurns, turnChanges } from "./turns";
import type { Message, ToolPart } from "./types";

// What opencode 1.18.33's edit tool records (jsdiff's createTwoFilesPatch).
const EDIT_PATCH = [
  "Index: /ws/notes.txt",
  "===================================================================",
  "--- /ws/notes.txt",
  "+++ /ws/notes.txt",
  "@@ -1,2 +1,3 @@",
  " alpha",
  "-beta",
  "+gamma",
  "+delta",
  "",
].join("\n");

describe("parsePatch", () => {
  it("reads one file's lines, kinds and counts", () => {
    const [file, ...rest] = parsePatch(EDIT_PATCH);
    expect(rest).toEqual([]);
    expect(file?.file).toBe("/ws/notes.txt");
    expect(file?.lines).toEqual([
      { kind: "hunk", text: "@@ -1,2 +1,3 @@" },
      { kind: "context", text: "alpha" },
      { kind: "del", text: "beta" },
      { kind: "add", text: "gamma" },
      { kind: "add", text: "delta" },
    ]);
    expect([file?.additions, file?.deletions]).toEqual([2, 1]);
  });

  it("does not take a removed '-- x' line for the next file's header", () => {
    const patch = "--- a/f.md\n+++ b/f.md\n@@ -1,2 +1,1 @@\n--- rule\n keep\n";
    const [file] = parsePatch(patch);
    expect(file?.file).toBe("f.md");
    expect(file?.lines.map((l) => [l.kind, l.text])).toEqual([
      ["hunk", "@@ -1,2 +1,1 @@"],
      ["del", "-- rule"],
      ["context", "keep"],
    ]);
  });

  it("splits a git diff of several files, names added and deleted ones, skips no-newline marks", () => {
    const patch = [
      "diff --git a/new.txt b/new.txt",
      "new file mode 100644",
      "--- /dev/null",
      "+++ b/new.txt",
      "@@ -0,0 +1 @@",
      "+one",
      "\\ No newline at end of file",
      "diff --git a/old.txt b/old.txt",
      "deleted file mode 100644",
      "--- a/old.txt",
      "+++ /dev/null",
      "@@ -1,2 +0,0 @@",
      "-x",
      "-y",
    ].join("\n");
    const files = parsePatch(patch);
    expect(files.map((f) => [f.file, f.additions, f.deletions])).toEqual([
      ["new.txt", 1, 0],
      ["old.txt", 0, 2],
    ]);
  });

  it("keeps the fallback name when the diff names none", () => {
    expect(parsePatch("@@ -1 +1 @@\n-a\n+b\n", "x.txt")[0]?.file).toBe("x.txt");
    expect(parsePatch("")).toEqual([]);
  });
});

describe("tool calls and turns", () => {
  const tool = (
    name: string,
    input: Record<string, unknown>,
    metadata: Record<string, unknown>,
  ): ToolPart => ({
    id: `prt_${name}`,
    messageID: "msg_2",
    sessionID: "s",
    type: "tool",
    tool: name,
    callID: "c",
    state: { status: "completed", input, metadata },
  });

  it("reads the edit tool's filediff and a write's new content", () => {
    const edit = tool(
      "edit",
      { filePath: "/ws/notes.txt" },
      { filediff: { file: "/ws/notes.txt", patch: EDIT_PATCH, additions: 2, deletions: 1 } },
    );
    expect(toolFileDiffs(edit).map((d) => [d.file, d.additions, d.deletions])).toEqual([
      ["/ws/notes.txt", 2, 1],
    ]);
    const write = tool("write", { filePath: "/ws/new.txt", content: "one\ntwo\n" }, { exists: true });
    expect(toolFileDiffs(write)).toEqual([addedFile("/ws/new.txt", "one\ntwo\n", true)]);
    expect(toolFileDiffs(write)[0]?.additions).toBe(2);
    expect(toolFileDiffs(tool("bash", { command: "ls" }, {}))).toEqual([]);
  });

  it("lists a turn's files once each, relative to the workspace, and prefers opencode's summary", () => {
    const prompt: Message = {
      info: { id: "msg_1", sessionID: "s", role: "user", time: { created: 1 } },
      parts: [],
    };
    const reply = (id: string, parts: Message["parts"]): Message =>
      ({
        info: {
          id,
          sessionID: "s",
          role: "assistant",
          time: { created: 2 },
          parentID: "msg_1",
          path: { cwd: "/ws" },
        },
        parts,
      }) as Message;
    const edit = tool("edit", { filePath: "/ws/notes.txt" }, { diff: EDIT_PATCH });
    const write = tool("write", { filePath: "/ws/notes.txt", content: "z\n" }, { exists: true });
    const patch = {
      id: "prt_p",
      messageID: "msg_3",
      sessionID: "s",
      type: "patch" as const,
      files: ["/ws/other.sh"],
    };
    const turns = groupTurns([prompt, reply("msg_2", [edit]), reply("msg_3", [write, patch])]);
    expect(turns).toHaveLength(1);
    const turn = turns[0] ?? { prompt: null, replies: [] };
    const changes = turnChanges(turn);
    expect(changes.map((c) => [c.file, c.additions, c.deletions, c.lines.length])).toEqual([
      ["notes.txt", 3, 1, 6],
      ["other.sh", 0, 0, 0],
    ]);
    const summarised = {
      ...prompt,
      info: {
        ...prompt.info,
        summary: { diffs: [{ file: "a.txt", patch: "@@ -1 +1 @@\n-a\n+b\n", additions: 1, deletions: 1 }] },
      },
    } as Message;
    expect(turnChanges({ prompt: summarised, replies: turn.replies }).map((c) => c.file)).toEqual(["a.txt"]);
  });

  it("starts a new turn at each prompt", () => {
    const m = (id: string, role: "user" | "assistant"): Message => ({
      info: { id, sessionID: "s", role, time: { created: 0 } },
      parts: [],
    });
    const turns = groupTurns([
      m("msg_0", "assistant"),
      m("msg_1", "user"),
      m("msg_2", "assistant"),
      m("msg_3", "user"),
    ]);
    expect(turns.map((t) => [t.prompt?.info.id ?? null, t.replies.map((r) => r.info.id)])).toEqual([
      [null, ["msg_0"]],
      ["msg_1", ["msg_2"]],
      ["msg_3", []],
    ]);
  });
});

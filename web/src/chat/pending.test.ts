import { describe, expect, it } from "vitest";
import { composeAnswers, emptyPick, parsePermission, parseQuestion, togglePick, typePick } from "./pending";
import type { QuestionInfo } from "./types";

const single: QuestionInfo = {
  question: "Which colour?",
  header: "Colour",
  options: [
    { label: "Red", description: "" },
    { label: "Blue", description: "" },
  ],
};
const several: QuestionInfo = { ...single, question: "Which sizes?", header: "Sizes", multiple: true };
const closed: QuestionInfo = { ...single, custom: false };

describe("question answers", () => {
  it("a single-choice question keeps one option, and a typed answer replaces it", () => {
    let pick = togglePick(emptyPick, "Red", false);
    pick = togglePick(pick, "Blue", false);
    expect(composeAnswers([single], [pick])).toEqual([["Blue"]]);
    pick = typePick(pick, "Green ", false);
    expect(composeAnswers([single], [pick])).toEqual([["Green"]]);
    // Picking an option again drops the typed one.
    expect(composeAnswers([single], [togglePick(pick, "Red", false)])).toEqual([["Red"]]);
  });

  it("a multiple-choice question toggles options and adds a typed answer last", () => {
    let pick = togglePick(emptyPick, "Red", true);
    pick = togglePick(pick, "Blue", true);
    pick = togglePick(pick, "Red", true);
    pick = typePick(pick, "Teal", true);
    expect(composeAnswers([several], [pick])).toEqual([["Blue", "Teal"]]);
  });

  it("is not ready while a question has no answer, and ignores typing where it is not allowed", () => {
    expect(composeAnswers([single, several], [togglePick(emptyPick, "Red", false), emptyPick])).toBeNull();
    expect(composeAnswers([closed], [{ selected: [], typed: "mine" }])).toBeNull();
    expect(composeAnswers([single], [{ selected: [], typed: "   " }])).toBeNull();
    expect(composeAnswers([single], [{ selected: ["Not offered"], typed: "" }])).toBeNull();
  });
});

describe("parsing opencode's requests", () => {
  it("reads a question and defaults what the tool call left out", () => {
    const parsed = parseQuestion({
      id: "que_1",
      sessionID: "ses_1",
      questions: [{ question: "Q?", options: [{ label: "A" }, { nolabel: 1 }] }, { bogus: true }],
    });
    expect(parsed).toEqual({
      id: "que_1",
      sessionID: "ses_1",
      questions: [
        {
          question: "Q?",
          header: "",
          options: [{ label: "A", description: "" }],
          multiple: false,
          custom: true,
        },
      ],
    });
    expect(parseQuestion({ id: "que_1", sessionID: "ses_1", questions: [] })).toBeNull();
    expect(parseQuestion("nonsense")).toBeNull();
  });

  it("reads a permission request and refuses one without ids", () => {
    expect(
      parsePermission({ id: "per_1", sessionID: "ses_1", permission: "bash", patterns: ["ls", 3] }),
    ).toEqual({
      id: "per_1",
      sessionID: "ses_1",
      permission: "bash",
      patterns: ["ls"],
    });
    expect(parsePermission({ id: "per_1" })).toBeNull();
  });
});

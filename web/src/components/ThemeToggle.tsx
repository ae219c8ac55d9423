import { useState } from "react";
import { applyTheme, loadTheme, type ThemeChoice } from "../lib/theme";
import { Field } from "./Field";

export function ThemeToggle() {
  const [choice, setChoice] = useState<ThemeChoice>(loadTheme);
  return (
    <Field label="Theme" className="inline">
      <select
        value={choice}
        onChange={(event) => {
          const next = event.target.value as ThemeChoice;
          setChoice(next);
          applyTheme(next);
        }}
      >
        <option value="system">System</option>
        <option value="light">Light</option>
        <option value="dark">Dark</option>
      </select>
    </Field>
  );
}

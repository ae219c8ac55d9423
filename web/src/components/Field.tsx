import type { InputHTMLAttributes, ReactNode } from "react";
import type { Role } from "../api/types";

/** The server refuses shorter passwords (`oqto.control.auth.passwords`). */
export const MIN_PASSWORD_LENGTH = 8;

interface FieldProps {
  label: ReactNode;
  /** Extra classes beside `field` (layout: `grow`, `inline`, ...). */
  className?: string;
  /** Named for screen readers only, where the layout already says what it is. */
  hideLabel?: boolean;
  children: ReactNode;
}

/** A form control with its label; clicking the label focuses the control. */
export function Field({ label, className, hideLabel, children }: FieldProps) {
  return (
    <label className={className ? `field ${className}` : "field"}>
      <span className={hideLabel ? "visually-hidden" : undefined}>{label}</span>
      {children}
    </label>
  );
}

type InputFieldProps = Omit<InputHTMLAttributes<HTMLInputElement>, "value" | "onChange" | "className"> & {
  label: string;
  className?: string;
  value: string;
  onValue: (value: string) => void;
  /** After the input, inside the label (a `<datalist>`). */
  children?: ReactNode;
};

export function InputField({ label, className, value, onValue, children, ...input }: InputFieldProps) {
  return (
    <Field label={label} className={className}>
      <input {...input} value={value} onChange={(e) => onValue(e.target.value)} />
      {children}
    </Field>
  );
}

type PresetFieldProps = Omit<InputFieldProps, "type" | "pattern" | "title" | "minLength">;

/** A password being chosen: the browser checks the length the server requires. */
export function NewPasswordField(props: PresetFieldProps) {
  return (
    <InputField
      type="password"
      autoComplete="new-password"
      minLength={MIN_PASSWORD_LENGTH}
      required
      {...props}
    />
  );
}

/** A platform user name being chosen, checked as the server checks it. */
export function UsernameField(props: Omit<PresetFieldProps, "label">) {
  return (
    <InputField
      label="Username"
      required
      pattern="[a-z][a-z0-9_\-]{0,31}"
      title="Lower-case letters, digits, - and _; starting with a letter"
      {...props}
    />
  );
}

/** The role field of the user and invite forms. */
export function RoleField({ value, onChange }: { value: Role; onChange: (role: Role) => void }) {
  return (
    <Field label="Role">
      <select value={value} onChange={(e) => onChange(e.target.value as Role)}>
        <option value="user">User</option>
        <option value="admin">Administrator</option>
      </select>
    </Field>
  );
}

export interface ExpiryOption {
  label: string;
  /** In the form's unit; null: never expires. */
  after: number | null;
}

/** "Expires after": `value` is the option's number as text, or "never". */
export function ExpiryField({
  options,
  value,
  onValue,
}: {
  options: ExpiryOption[];
  value: string;
  onValue: (value: string) => void;
}) {
  return (
    <Field label="Expires after">
      <select value={value} onChange={(e) => onValue(e.target.value)}>
        {options.map((option) => (
          <option key={option.label} value={option.after === null ? "never" : String(option.after)}>
            {option.label}
          </option>
        ))}
      </select>
    </Field>
  );
}

/** The form value of an `ExpiryField`, as the API takes it. */
export const expiryValue = (value: string): number | null => (value === "never" ? null : Number(value));

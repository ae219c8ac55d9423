import type { ReactNode } from "react";

/**
 * A labelled table that scrolls sideways on narrow screens. `children` are its body rows,
 * each starting with a `<th scope="row">` that names the row.
 */
export function DataTable({
  label,
  columns,
  children,
}: {
  label: string;
  columns: string[];
  children: ReactNode;
}) {
  return (
    <div className="table-wrap">
      <table aria-label={label}>
        <thead>
          <tr>
            {columns.map((column) => (
              <th key={column} scope="col">
                {column}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>{children}</tbody>
      </table>
    </div>
  );
}

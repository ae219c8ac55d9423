import { useCallback, useEffect, useState } from "react";
import { errorMessage } from "../api/http";

/** Load a list, reload on demand, keep the error to show. */
export function useLoader<T>(load: () => Promise<T>): {
  data: T | null;
  error: string | null;
  reload: () => void;
  setData: (update: (current: T | null) => T | null) => void;
} {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  const reload = useCallback(() => {
    load().then(
      (value) => {
        setData(value);
        setError(null);
      },
      (e: unknown) => setError(errorMessage(e)),
    );
  }, [load]);
  useEffect(reload, [reload]);
  return { data, error, reload, setData };
}

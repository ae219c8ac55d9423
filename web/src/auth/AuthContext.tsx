import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from "react";
import { fetchHealth, fetchMe, login, logout } from "../api/auth";
import { ApiError, setUnauthorizedHandler } from "../api/http";
import type { Health, User } from "../api/types";
import { addingUsers, type AddingUsers } from "../lib/mode";

export interface AuthValue {
  user: User | null;
  /** The server's /api/health: `undefined` while asking, `null` if it did not answer. */
  health: Health | null | undefined;
  /** Still asking the server who we are. */
  checking: boolean;
  signIn: (username: string, password: string) => Promise<void>;
  signOut: () => Promise<void>;
  /** Re-read the signed-in user (after registration, say). */
  refresh: () => Promise<void>;
}

const AuthContext = createContext<AuthValue | null>(null);

export function AuthProvider({ children }: { children: ReactNode }) {
  const [user, setUser] = useState<User | null>(null);
  const [health, setHealth] = useState<Health | null | undefined>(undefined);
  const [checking, setChecking] = useState(true);

  const refresh = useCallback(async () => {
    try {
      setUser(await fetchMe());
    } catch (error) {
      if (!(error instanceof ApiError) || error.status === 401) setUser(null);
      else throw error;
    } finally {
      setChecking(false);
    }
  }, []);

  useEffect(() => {
    // Any 401 from any API call means the sign-in is gone (expired, revoked, disabled).
    setUnauthorizedHandler(() => setUser(null));
    fetchMe()
      .then(setUser, () => setUser(null))
      .finally(() => setChecking(false));
    fetchHealth().then(setHealth, () => setHealth(null));
    return () => setUnauthorizedHandler(null);
  }, []);

  const signIn = useCallback(async (username: string, password: string) => {
    setUser(await login(username, password));
  }, []);

  const signOut = useCallback(async () => {
    try {
      await logout();
    } finally {
      setUser(null);
    }
  }, []);

  const value = useMemo(
    () => ({ user, health, checking, signIn, signOut, refresh }),
    [user, health, checking, signIn, signOut, refresh],
  );
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}

export function useAuth(): AuthValue {
  const value = useContext(AuthContext);
  if (!value) throw new Error("useAuth outside AuthProvider");
  return value;
}

/** Whether this server can have more users (not in single-user mode); see `lib/mode`. */
export function useAddingUsers(): AddingUsers {
  const { health } = useAuth();
  return useMemo(() => addingUsers(health), [health]);
}

export function useUser(): User {
  const { user } = useAuth();
  if (!user) throw new Error("useUser outside a signed-in page");
  return user;
}

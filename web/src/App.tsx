import { lazy, Suspense } from "react";
import { BrowserRouter, Outlet, Route, Routes } from "react-router-dom";
import { AuthProvider } from "./auth/AuthContext";
import { RequireAuth } from "./auth/RequireAuth";
import { SessionsProvider } from "./auth/SessionsContext";
import { Layout } from "./components/Layout";
import { InboxPage } from "./inbox/InboxPage";
import { AccountPage } from "./pages/AccountPage";
import { AdminPage } from "./pages/AdminPage";
import { LoginPage } from "./pages/LoginPage";
import { NotFoundPage } from "./pages/NotFoundPage";
import { RegisterPage } from "./pages/RegisterPage";
import { SessionsPage } from "./pages/SessionsPage";

// The session view (chat, files, terminal) is the heaviest page: it loads on first use.
const SessionPage = lazy(() => import("./pages/SessionPage"));

/** One frame (and one live-status stream) for every signed-in page. */
function SignedIn() {
  return (
    <RequireAuth>
      <SessionsProvider>
        <Layout>
          <Suspense
            fallback={
              <p className="splash" role="status">
                Loading…
              </p>
            }
          >
            <Outlet />
          </Suspense>
        </Layout>
      </SessionsProvider>
    </RequireAuth>
  );
}

export function App() {
  return (
    <AuthProvider>
      <BrowserRouter>
        <Routes>
          <Route path="/login" element={<LoginPage />} />
          <Route path="/register" element={<RegisterPage />} />
          <Route element={<SignedIn />}>
            <Route index element={<SessionsPage />} />
            <Route path="/sessions/:sessionId" element={<SessionPage />} />
            <Route path="/admin/*" element={<AdminPage />} />
            <Route path="/inbox" element={<InboxPage />} />
            <Route path="/account" element={<AccountPage />} />
            <Route path="*" element={<NotFoundPage />} />
          </Route>
        </Routes>
      </BrowserRouter>
    </AuthProvider>
  );
}

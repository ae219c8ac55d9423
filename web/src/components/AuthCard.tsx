import { useId, type ReactNode, type SubmitEvent } from "react";

interface AuthCardProps {
  title: string;
  /** Makes the card a form; without it the card only says something. */
  onSubmit?: (event: SubmitEvent<HTMLFormElement>) => void;
  children: ReactNode;
}

/** The centred, branded card of the pages shown before signing in. */
export function AuthCard({ title, onSubmit, children }: AuthCardProps) {
  const titleId = useId();
  const body = (
    <>
      <div className="auth-brand">
        <img src="/favicon.svg" alt="" width="40" height="40" />
        <h1 id={titleId}>{title}</h1>
      </div>
      {children}
    </>
  );
  return (
    <main id="main" className="auth-page">
      {onSubmit ? (
        <form className="card auth-card" onSubmit={onSubmit} aria-labelledby={titleId}>
          {body}
        </form>
      ) : (
        <section className="card auth-card" aria-labelledby={titleId}>
          {body}
        </section>
      )}
    </main>
  );
}

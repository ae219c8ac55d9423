/** Settings named in an explanation: shown as code, never broken across lines. */
const SETTING = /(--single-user|\[local\] single_user)/;

/** `text` with the settings it names set as code. */
export function ReasonText({ text }: { text: string }) {
  return (
    <>
      {text.split(SETTING).map((part, i) =>
        i % 2 === 1 ? (
          <code key={i} className="setting">
            {part}
          </code>
        ) : (
          part
        ),
      )}
    </>
  );
}

/** In place of a form this server cannot serve (single-user mode: one user only). */
export function SingleUserNote({ what, reason }: { what: string; reason: string }) {
  return (
    <div className="card" role="note" aria-label={`${what} is not available`}>
      <p>
        <strong>{what}</strong> is not available on this server.
      </p>
      <p className="muted">
        <ReasonText text={reason} />
      </p>
    </div>
  );
}

/** What a region shows while its data is on the way. */
export function LoadingState({ label, page = false }: { label: string; page?: boolean }) {
  return (
    <div className={page ? "state state-page" : "state"} role="status" aria-live="polite">
      <span className="spinner" aria-hidden="true" />
      <span>{label}</span>
    </div>
  );
}

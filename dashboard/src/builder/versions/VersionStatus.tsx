/** A version's status as a badge: draft, published or archived. */
export function VersionStatus({ status }: { status: string }) {
  const tone = status === "published" ? "status-published" : status === "draft" ? "status-draft" : "";
  return <span className={`status-badge ${tone}`}>{status}</span>;
}

import { useEffect, useState } from "react";

import { ApiProblem, api, call, messageOf, type Schemas } from "../api/client";
import { ProblemDetails } from "../components/ProblemDetails";

export type Texts = Pick<Schemas["TemplateOut"], "subject" | "body" | "html">;

interface TemplatePreviewProps {
  templateId: string;
  /** What the editor holds now, saved or not: the preview follows it as it is typed. */
  texts: Texts;
  channel: string;
}

const PREVIEW_DELAY_MS = 350;
const SAMPLE_CONTACT = { name: "Asha Patel", phone: "+919812345678", email: "asha@example.com" };

type Rendered =
  | { status: "waiting" }
  | { status: "ready"; preview: Schemas["PreviewOut"] }
  | { status: "error"; error: unknown };

function parseObject(text: string, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text.trim() || "{}");
  } catch {
    throw new Error(`${what} is not valid JSON.`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new Error(`${what} must be a JSON object.`);
  return value as Record<string, unknown>;
}

/** The variable a missing-variable answer names (`vars.city`), if it names one. */
function missingVariable(error: unknown): string | null {
  if (!(error instanceof ApiProblem) || error.code !== "missing_variable") return null;
  const named = (error.details[0] as { variable?: unknown } | undefined)?.variable;
  return typeof named === "string" ? named : null;
}

/** The template rendered by the API for a sample contact and variables, both editable,
 * asked again a moment after anything changes; or the API's reason it cannot render. */
export function TemplatePreview({ templateId, texts, channel }: TemplatePreviewProps) {
  const [contactText, setContactText] = useState(JSON.stringify(SAMPLE_CONTACT, null, 2));
  const [varsText, setVarsText] = useState("{}");
  const [rendered, setRendered] = useState<Rendered>({ status: "waiting" });

  useEffect(() => {
    let current = true;
    const timer = window.setTimeout(() => {
      let body: Schemas["PreviewBody"];
      try {
        body = { texts, contact: parseObject(contactText, "The sample contact"), vars: parseObject(varsText, "The sample variables") };
      } catch (error) {
        setRendered({ status: "error", error });
        return;
      }
      call(api.POST("/api/templates/{template_id}/preview", { params: { path: { template_id: templateId } }, body })).then(
        (preview) => current && setRendered({ status: "ready", preview }),
        (error: unknown) => current && setRendered({ status: "error", error }),
      );
    }, PREVIEW_DELAY_MS);
    return () => {
      current = false;
      window.clearTimeout(timer);
    };
  }, [templateId, texts.subject, texts.body, texts.html, contactText, varsText]);

  const missing = rendered.status === "error" ? missingVariable(rendered.error) : null;

  function addToSample(variable: string) {
    const [scope, ...rest] = variable.split(".");
    const name = rest.join(".");
    const [text, setText] = scope === "contact" ? [contactText, setContactText] : [varsText, setVarsText];
    try {
      setText(JSON.stringify({ ...parseObject(text, "sample"), [name]: "sample" }, null, 2));
    } catch {
      // The sample is not JSON: its own error is already shown.
    }
  }

  return (
    <section className="template-preview panel" aria-labelledby="preview-title">
      <h2 id="preview-title">Preview</h2>
      <div className="preview-output" aria-live="polite" data-testid="preview">
        {rendered.status === "waiting" && <p className="hint">Rendering…</p>}
        {rendered.status === "error" && (
          <div className="preview-error" role="alert">
            <strong>It cannot render: </strong>
            {messageOf(rendered.error)}
            {rendered.error instanceof ApiProblem && <ProblemDetails details={rendered.error.details} />}
            {missing && (missing.startsWith("vars.") || missing.startsWith("contact.")) && (
              <button type="button" className="button-link" onClick={() => addToSample(missing)}>
                Add {missing} to the sample
              </button>
            )}
          </div>
        )}
        {rendered.status === "ready" && <PreviewMessage preview={rendered.preview} channel={channel} />}
      </div>
      <div className="preview-sample">
        <label htmlFor="preview-contact">Sample contact (JSON)</label>
        <textarea id="preview-contact" rows={5} spellCheck={false} value={contactText} onChange={(e) => setContactText(e.target.value)} />
        <label htmlFor="preview-vars">Sample variables (JSON, as vars.*)</label>
        <textarea id="preview-vars" rows={3} spellCheck={false} value={varsText} onChange={(e) => setVarsText(e.target.value)} />
      </div>
    </section>
  );
}

function PreviewMessage({ preview, channel }: { preview: Schemas["PreviewOut"]; channel: string }) {
  return (
    <div className={`preview-message preview-${channel}`}>
      {preview.subject !== null && (
        <p className="preview-subject" data-testid="preview-subject">
          <span className="hint">Subject: </span>
          {preview.subject}
        </p>
      )}
      {preview.body !== null && (
        <pre className="preview-body" data-testid="preview-body">
          {preview.body}
        </pre>
      )}
      {preview.html !== null && (
        <iframe className="preview-html" title="HTML preview" sandbox="" srcDoc={preview.html} />
      )}
      {preview.subject === null && preview.body === null && preview.html === null && <p className="hint">The template has no text yet.</p>}
    </div>
  );
}

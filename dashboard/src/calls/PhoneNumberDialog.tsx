import { useState } from "react";

import { api, call } from "../api/client";
import { Dialog } from "../components/Dialog";
import type { PhoneNumber } from "./board";
import { FormProblem } from "./FormProblem";
import { useSubmit } from "./useSubmit";

interface PhoneNumberDialogProps {
  /** The number to edit; none: a new one. */
  phoneNumber: PhoneNumber | null;
  onSaved: (phoneNumber: PhoneNumber) => void;
  onClose: () => void;
}

/** A number the tenant owns (E.164), and a label to know it by. */
export function PhoneNumberDialog({ phoneNumber, onSaved, onClose }: PhoneNumberDialogProps) {
  const [number, setNumber] = useState(phoneNumber?.number ?? "");
  const [label, setLabel] = useState(phoneNumber?.label ?? "");

  const { pending, error, submit } = useSubmit(async () => {
    const body = { number: number.trim(), label: label.trim() === "" ? null : label.trim() };
    if (phoneNumber) {
      onSaved(
        await call(api.PATCH("/api/phone-numbers/{phone_number_id}", { params: { path: { phone_number_id: phoneNumber.id } }, body })),
      );
    } else {
      onSaved(await call(api.POST("/api/phone-numbers", { body })));
    }
  });

  return (
    <Dialog title={phoneNumber ? `Edit ${phoneNumber.number}` : "New phone number"} onClose={onClose}>
      <form onSubmit={submit} className="form">
        <label htmlFor="number-number">Number (E.164)</label>
        <input id="number-number" required inputMode="tel" placeholder="+15550100001" autoFocus value={number} onChange={(e) => setNumber(e.target.value)} />
        <label htmlFor="number-label">Label (optional)</label>
        <input id="number-label" maxLength={200} placeholder="Main line" value={label} onChange={(e) => setLabel(e.target.value)} />
        <p className="hint">Point the number's voice webhook at /webhooks/twilio/voice, then deploy a flow to it.</p>
        <FormProblem error={error} />
        <div className="dialog-actions">
          <button type="button" className="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="button button-primary" disabled={pending || number.trim() === ""}>
            {pending ? "Saving…" : phoneNumber ? "Save number" : "Add number"}
          </button>
        </div>
      </form>
    </Dialog>
  );
}

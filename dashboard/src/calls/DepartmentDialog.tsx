import { useState } from "react";

import { api, call, type Schemas } from "../api/client";
import { Dialog } from "../components/Dialog";
import type { Department } from "./board";
import { FormProblem } from "./FormProblem";
import { useSubmit } from "./useSubmit";

interface DepartmentDialogProps {
  /** The department to edit; none: a new one. */
  department: Department | null;
  departments: Department[];
  onSaved: (department: Department) => void;
  onClose: () => void;
}

const orNull = (value: string) => (value.trim() === "" ? null : value.trim());

/** A department: its name, the queue callers wait in when no agent is free, its line, and
 * where its calls overflow. Business hours, when set through the API, are kept as they are. */
export function DepartmentDialog({ department, departments, onSaved, onClose }: DepartmentDialogProps) {
  const [name, setName] = useState(department?.name ?? "");
  const [queue, setQueue] = useState(department?.queue ?? "");
  const [phone, setPhone] = useState(department?.phone_number ?? "");
  const [overflow, setOverflow] = useState(department?.overflow_department_id ?? "");
  const others = departments.filter((other) => other.id !== department?.id);

  const { pending, error, submit } = useSubmit(async () => {
    const fields = {
      name: name.trim(),
      queue: orNull(queue),
      phone_number: orNull(phone),
      overflow_department_id: orNull(overflow),
    };
    if (department) {
      const body: Schemas["DepartmentUpdate"] = fields;
      onSaved(await call(api.PATCH("/api/departments/{department_id}", { params: { path: { department_id: department.id } }, body })));
    } else {
      const body: Schemas["DepartmentCreate"] = fields;
      onSaved(await call(api.POST("/api/departments", { body })));
    }
  });

  return (
    <Dialog title={department ? `Edit ${department.name}` : "New department"} onClose={onClose}>
      <form onSubmit={submit} className="form">
        <label htmlFor="department-name">Name</label>
        <input id="department-name" required maxLength={200} autoFocus value={name} onChange={(e) => setName(e.target.value)} />
        <label htmlFor="department-queue">Queue</label>
        <input id="department-queue" maxLength={64} value={queue} onChange={(e) => setQueue(e.target.value)} aria-describedby="department-queue-help" />
        <p id="department-queue-help" className="hint">
          Callers wait in the queue when no agent is available. Without one, a transfer dials the department's line.
        </p>
        <label htmlFor="department-phone">Line (E.164, optional)</label>
        <input id="department-phone" inputMode="tel" placeholder="+15550100000" value={phone} onChange={(e) => setPhone(e.target.value)} />
        <label htmlFor="department-overflow">Overflow to</label>
        <select id="department-overflow" value={overflow} onChange={(e) => setOverflow(e.target.value)}>
          <option value="">No overflow</option>
          {others.map((other) => (
            <option key={other.id} value={other.id}>
              {other.name}
            </option>
          ))}
        </select>
        <FormProblem error={error} />
        <div className="dialog-actions">
          <button type="button" className="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="button button-primary" disabled={pending || name.trim() === ""}>
            {pending ? "Saving…" : department ? "Save department" : "Create department"}
          </button>
        </div>
      </form>
    </Dialog>
  );
}

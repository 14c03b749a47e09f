import { useState } from "react";

import { api, call, type Schemas } from "../api/client";
import { Dialog } from "../components/Dialog";
import { STATUSES, STATUS_LABELS, type Agent, type AgentStatus, type Department } from "./board";
import { FormProblem } from "./FormProblem";
import { useSubmit } from "./useSubmit";

interface AgentDialogProps {
  /** The agent to edit; none: a new one. */
  agent: Agent | null;
  departments: Department[];
  onSaved: (agent: Agent) => void;
  onClose: () => void;
}

const orNull = (value: string) => (value.trim() === "" ? null : value.trim());

function skillsOf(text: string): string[] {
  const skills = text.split(",").map((skill) => skill.trim()).filter(Boolean);
  return [...new Set(skills)];
}

/** An agent: name, how a transfer reaches it (a phone, or a Twilio Client identity), its
 * departments and skills; a new one's status (offline until it says it is available). */
export function AgentDialog({ agent, departments, onSaved, onClose }: AgentDialogProps) {
  const [name, setName] = useState(agent?.name ?? "");
  const [phone, setPhone] = useState(agent?.phone ?? "");
  const [identity, setIdentity] = useState(agent?.client_identity ?? "");
  const [member, setMember] = useState<ReadonlySet<string>>(new Set(agent?.department_ids ?? []));
  const [skills, setSkills] = useState((agent?.skills ?? []).join(", "));
  const [status, setStatus] = useState<AgentStatus>("offline");

  function toggle(id: string, on: boolean) {
    setMember((current) => {
      const next = new Set(current);
      if (on) next.add(id);
      else next.delete(id);
      return next;
    });
  }

  const { pending, error, submit } = useSubmit(async () => {
    const fields = {
      name: name.trim(),
      phone: orNull(phone),
      client_identity: orNull(identity),
      department_ids: departments.filter((d) => member.has(d.id)).map((d) => d.id),
      skills: skillsOf(skills),
    };
    if (agent) {
      const body: Schemas["AgentUpdate"] = fields;
      onSaved(await call(api.PATCH("/api/agents/{agent_id}", { params: { path: { agent_id: agent.id } }, body })));
    } else {
      const body: Schemas["AgentCreate"] = { ...fields, status };
      onSaved(await call(api.POST("/api/agents", { body })));
    }
  });

  return (
    <Dialog title={agent ? `Edit ${agent.name}` : "New agent"} onClose={onClose}>
      <form onSubmit={submit} className="form">
        <label htmlFor="agent-name">Name</label>
        <input id="agent-name" required maxLength={200} autoFocus value={name} onChange={(e) => setName(e.target.value)} />
        <label htmlFor="agent-phone">Phone (E.164)</label>
        <input id="agent-phone" inputMode="tel" placeholder="+15550100001" value={phone} onChange={(e) => setPhone(e.target.value)} />
        <label htmlFor="agent-identity">or Twilio Client identity</label>
        <input id="agent-identity" maxLength={200} value={identity} onChange={(e) => setIdentity(e.target.value)} aria-describedby="agent-reach-help" />
        <p id="agent-reach-help" className="hint">
          A transfer dials the phone, or the browser or app signed in with this identity.
        </p>
        <fieldset className="checkbox-group">
          <legend>Departments</legend>
          {departments.length === 0 && <p className="hint">No departments yet.</p>}
          {departments.map((department) => (
            <label key={department.id} className="checkbox">
              <input type="checkbox" checked={member.has(department.id)} onChange={(e) => toggle(department.id, e.target.checked)} />
              {department.name}
            </label>
          ))}
        </fieldset>
        <label htmlFor="agent-skills">Skills (comma-separated)</label>
        <input id="agent-skills" placeholder="spanish, billing" value={skills} onChange={(e) => setSkills(e.target.value)} />
        {!agent && (
          <>
            <label htmlFor="agent-status">Status</label>
            <select id="agent-status" value={status} onChange={(e) => setStatus(e.target.value as AgentStatus)}>
              {STATUSES.map((option) => (
                <option key={option} value={option}>
                  {STATUS_LABELS[option]}
                </option>
              ))}
            </select>
          </>
        )}
        <FormProblem error={error} />
        <div className="dialog-actions">
          <button type="button" className="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="button button-primary" disabled={pending || name.trim() === ""}>
            {pending ? "Saving…" : agent ? "Save agent" : "Create agent"}
          </button>
        </div>
      </form>
    </Dialog>
  );
}

import { useState, type KeyboardEvent } from "react";

interface TagEditorProps {
  tags: string[];
  onChange: (tags: string[]) => void;
}

/** Tags as chips: type one and press Enter (or Add) to add it, × to remove it. */
export function TagEditor({ tags, onChange }: TagEditorProps) {
  const [draft, setDraft] = useState("");

  function add() {
    const tag = draft.trim();
    if (tag && !tags.some((t) => t.toLowerCase() === tag.toLowerCase())) onChange([...tags, tag]);
    setDraft("");
  }

  function onKey(event: KeyboardEvent<HTMLInputElement>) {
    if (event.key === "Enter") {
      event.preventDefault();
      add();
    }
  }

  return (
    <div className="tag-editor">
      {tags.length > 0 && (
        <ul className="chips" aria-label="Tags">
          {tags.map((tag) => (
            <li key={tag} className="chip">
              {tag}
              <button type="button" className="chip-remove" aria-label={`Remove tag ${tag}`} onClick={() => onChange(tags.filter((t) => t !== tag))}>
                ×
              </button>
            </li>
          ))}
        </ul>
      )}
      <div className="inline-row">
        <input
          id="contact-new-tag"
          aria-label="New tag"
          placeholder="Add a tag and press Enter"
          maxLength={64}
          value={draft}
          onChange={(event) => setDraft(event.target.value)}
          onKeyDown={onKey}
        />
        <button type="button" className="button" onClick={add} disabled={draft.trim() === ""}>
          Add tag
        </button>
      </div>
    </div>
  );
}

import { useEffect, useState } from 'preact/hooks';
import { currentToken, onTokenChange, setToken } from '../token.js';

/** Where the operator's token is entered (once per tab) or forgotten. */
export function TokenForm() {
  const [stored, setStored] = useState(currentToken() !== null);
  const [draft, setDraft] = useState('');
  useEffect(() => onTokenChange(() => setStored(currentToken() !== null)), []);
  if (stored) {
    return (
      <div class="token">
        <span>Token set for this tab</span>
        <button type="button" onClick={() => setToken(null)}>
          Forget token
        </button>
      </div>
    );
  }
  return (
    <form
      class="token"
      onSubmit={(event) => {
        event.preventDefault();
        if (draft.trim()) setToken(draft.trim());
        setDraft('');
      }}
    >
      <label for="token">Operator token</label>
      <input
        id="token"
        type="password"
        autocomplete="off"
        value={draft}
        onInput={(event) => setDraft(event.currentTarget.value)}
      />
      <button type="submit">Use token</button>
    </form>
  );
}

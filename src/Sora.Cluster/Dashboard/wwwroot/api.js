// The coordinator's JSON API and event stream. The page never holds the job token: the session cookie that
// /login set goes with every same-origin request, fetch and EventSource alike.

/** The API answered 401: the session cookie is missing or expired. */
export class SessionExpired extends Error {
  constructor() {
    super('session expired');
    this.name = 'SessionExpired';
  }
}

/** The API answered with another error status (503 while the coordinator starts), with its message. */
export class ApiError extends Error {
  constructor(path, status, message) {
    super(`${path}: ${message ?? `HTTP ${status}`}`);
    this.name = 'ApiError';
    this.status = status;
  }
}

/** GETs a JSON resource of the API. */
export async function getJson(path) {
  const response = await fetch(path, { headers: { Accept: 'application/json' }, cache: 'no-store' });
  if (response.status === 401) throw new SessionExpired();
  if (!response.ok) throw new ApiError(path, response.status, (await response.json().catch(() => null))?.error);
  return response.json();
}

/**
 * Listens to /api/events: onUpdate(version) after every change of the job; onTrouble(problem) when the stream drops
 * (problem: 'reconnecting', or the SessionExpired/Error found by asking the API why) and onTrouble(null) once it is
 * back. EventSource retries by itself while the server is unreachable; a stream the server refused (401) stays
 * closed, so then the API is asked why, and the stream is opened again unless the session expired.
 */
export function subscribe(onUpdate, onTrouble) {
  let source = null;
  let closed = false;

  const open = () => {
    source = new EventSource('/api/events');
    source.addEventListener('open', () => onTrouble(null));
    source.addEventListener('update', (event) => {
      let version = null;
      try {
        version = JSON.parse(event.data).version ?? null;
      } catch {
        // An update without a readable version still means "something changed".
      }
      onTrouble(null);
      onUpdate(version);
    });
    source.addEventListener('error', async () => {
      if (closed) return;
      if (source.readyState !== EventSource.CLOSED) {
        onTrouble('reconnecting');
        return;
      }
      try {
        await getJson('/api/job');
        setTimeout(() => closed || open(), 3000);
      } catch (problem) {
        onTrouble(problem);
        if (!(problem instanceof SessionExpired)) setTimeout(() => closed || open(), 3000);
      }
    });
  };

  open();
  return () => {
    closed = true;
    source?.close();
  };
}

import type { IncomingMessage } from 'node:http';

/** Why a body was not read: over the byte budget, past the deadline, or the request broke off. */
export type BodyFailure = 'too_large' | 'timeout' | 'error';
export type BodyResult = { ok: true; raw: string } | { ok: false; failure: BodyFailure };

/**
 * Reads a request body of at most `budget` bytes, whole by `deadlineMs` from now. Stops at the
 * first byte over the budget and at the deadline, without reading further: the caller answers and
 * closes the connection. A request whose message is complete when the deadline hits is not timed
 * out (its body is already received, only not yet consumed, e.g. after a slow middleware).
 */
export function readBody(req: IncomingMessage, budget: number, deadlineMs: number, done: (result: BodyResult) => void): void {
  const chunks: Buffer[] = [];
  let size = 0;
  let finished = false;
  const finish = (result: BodyResult) => {
    if (finished) return;
    finished = true;
    clearTimeout(timer);
    req.removeListener('data', onData);
    req.removeListener('end', onEnd);
    req.removeListener('error', onError);
    req.removeListener('close', onError);
    done(result);
  };
  const onData = (chunk: Buffer) => {
    size += chunk.length;
    if (size > budget) return finish({ ok: false, failure: 'too_large' });
    chunks.push(chunk);
  };
  const onEnd = () => finish({ ok: true, raw: Buffer.concat(chunks).toString('utf8') });
  // 'close' before 'end': the client went away (aborted), the same for the caller as an error.
  const onError = () => finish({ ok: false, failure: 'error' });
  const timer = setTimeout(
    () => {
      if (!req.complete) finish({ ok: false, failure: 'timeout' });
    },
    Math.max(0, deadlineMs),
  );
  req.on('data', onData);
  req.on('end', onEnd);
  req.on('error', onError);
  req.on('close', onError);
}

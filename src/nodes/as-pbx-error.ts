import { PbxError } from '../core/errors';

/**
 * The PbxError a node or an editor endpoint reports for `err`.
 *
 * Rule: an error that is not a PbxError is `invalid_input`. Everything that talks to a provider
 * already classifies its failures (the HTTP client and the operation runner turn whatever an
 * adapter throws into a PbxError, `provider_error` when nothing better fits), so what reaches a
 * node or an endpoint unclassified was raised before any request left: by the node's or the
 * dialog's settings (a base URL, an allowed-senders list) or by a TypedInput (a JSONata syntax
 * error). What the user can change to fix it is their input; `provider_error` would send them to
 * look at the PBX instead.
 */
export function asPbxError(err: unknown): PbxError {
  return err instanceof PbxError ? err : new PbxError('invalid_input', messageOf(err));
}

/** The message of anything thrown: an Error's, a thrown object's `message` (JSONata throws plain objects), else its text. */
export function messageOf(err: unknown): string {
  if (err instanceof Error) return err.message;
  if (err && typeof err === 'object' && typeof (err as { message?: unknown }).message === 'string')
    return (err as { message: string }).message;
  return String(err);
}

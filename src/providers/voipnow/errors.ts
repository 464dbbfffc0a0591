import { errorCodeOfStatus, PbxError, type ErrorCode } from '../../core/errors';
import { isRecord, recordOf } from '../../core/fields';
import type { HttpResponse } from '../../core/http';
import { lookupTable } from '../../core/lookup';

/** How errors name the API. */
export const API_NAME = 'VoipNow UnifiedAPI';

/**
 * Vendor codes whose meaning the HTTP status does not carry. `extension_invalid` is how the
 * UnifiedAPI answers an extension (or queue, which is an extension) it does not know: like every
 * provider's unknown extension, queue or group, that is `not_found`.
 */
const VENDOR_CODES = lookupTable<ErrorCode>({ extension_invalid: 'not_found' });

/**
 * `{"error":{"code":"extension_invalid","message":"..."}}` → PbxError with code by status (or by
 * vendor code, VENDOR_CODES), * `providerCode` = the vendor code, and the vendor message in the text.
 */
export function vendorError(
  operation: string,
  res: Pick<HttpResponse, 'status' | 'data' | 'text'>,
  redact: (text: string) => string = (t) => t,
): PbxError {
  const { code, message } = vendorErrorOf(res.data);
  let text = `${operation}: VoipNow answered HTTP ${res.status}`;
  if (code) text += ` ${code}`;
  if (message) text += `: ${message}`;
  else if (!code && res.text.trim()) text += `: ${res.text.replace(/\s+/g, ' ').trim().slice(0, 200)}`;
  // Only where the vendor documents them: a 400 with its error body.
  const known = code && res.status === 400 ? VENDOR_CODES.get(code) : undefined;
  return new PbxError(
    known ?? errorCodeOfStatus(res.status),
    redact(text),
    code ? { status: res.status, providerCode: code } : { status: res.status },
  );
}

/**
 * The vendor code and message of an error body, in either shape VoipNow uses: OAuth's
 * `{"error":"invalid_client","error_description":"..."}` or the UnifiedAPI's `{"error":{"code","message"}}`.
 */
export function vendorErrorOf(data: unknown): { code?: string; message?: string } {
  const { error, error_description: description } = recordOf(data);
  if (typeof error === 'string') return { code: error, message: typeof description === 'string' ? description : undefined };
  if (isRecord(error)) {
    return {
      code: typeof error.code === 'string' || typeof error.code === 'number' ? String(error.code) : undefined,
      message: typeof error.message === 'string' ? error.message : undefined,
    };
  }
  return {};
}

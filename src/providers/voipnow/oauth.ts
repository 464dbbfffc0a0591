import type { IssuedToken, TokenSource } from '../../core/auth';
import { notTheApiError, PbxError } from '../../core/errors';
import { recordOf } from '../../core/fields';
import { tokenSourceOf, type ProviderContext } from '../../core/provider';
import { API_NAME, vendorErrorOf } from './errors';

/** 4PSA's own client renews its token five minutes before `expires_in` runs out. */
const REFRESH_MARGIN_MS = 5 * 60_000;
/** Used when the token answer states no usable `expires_in` (the documented lifetime is about 1 h). */
const DEFAULT_LIFETIME_S = 3600;

/** The account's token cache: renewed five minutes early (at half-life for short-lived tokens). */
export function createTokenCache(ctx: ProviderContext): TokenSource {
  return tokenSourceOf(ctx, () => requestToken(ctx), { refreshMarginMs: REFRESH_MARGIN_MS });
}

/**
 * OAuth2 client credentials: `POST {baseUrl}/oauth/token.php`, form-urlencoded. Any 4xx (the
 * documented `{"error":"invalid_client"}`) is `auth_failed`; the secret is never part of a text.
 */
async function requestToken(ctx: ProviderContext): Promise<IssuedToken> {
  const { clientId, clientSecret } = ctx.settings.credentials;
  if (!clientId || !clientSecret) {
    throw new PbxError('auth_failed', 'VoipNow needs the client ID (App Key) and client secret (App Secret) in the pbx-config node');
  }
  const form = new URLSearchParams({
    grant_type: 'client_credentials',
    client_id: clientId,
    client_secret: clientSecret,
    type: 'unifiedapi',
    redirect_uri: ctx.settings.baseUrl,
  });
  const res = await ctx.http.send({
    method: 'POST',
    path: '/oauth/token.php',
    body: form,
    operation: 'token',
    stateChanging: false,
    acceptStatus: () => true,
  });
  const data = recordOf(res.data);
  if (res.status >= 200 && res.status < 300) {
    const token = typeof data.access_token === 'string' ? data.access_token.trim() : '';
    if (!token) {
      throw notTheApiError('token', API_NAME, `HTTP ${res.status} from /oauth/token.php without an access_token`, res.status);
    }
    ctx.redactor.add(token);
    const stated = Number(data.expires_in);
    const expiresIn = Number.isFinite(stated) && stated > 0 ? stated : DEFAULT_LIFETIME_S;
    return { token, expiresInMs: expiresIn * 1000 };
  }
  const { code, message } = vendorErrorOf(data);
  // `invalid_client: Client authentication failed.`
  const reason = [code, message].filter(Boolean).join(': ').slice(0, 200);
  if (res.status >= 400 && res.status < 500) {
    throw new PbxError(
      'auth_failed',
      ctx.redactor.redact(`token: VoipNow refused the client credentials (HTTP ${res.status}${reason ? `, ${reason}` : ''})`),
      code ? { status: res.status, providerCode: code } : { status: res.status },
    );
  }
  throw new PbxError('provider_error', ctx.redactor.redact(`token: VoipNow answered HTTP ${res.status}${reason ? ` (${reason})` : ''}`), {
    status: res.status,
  });
}

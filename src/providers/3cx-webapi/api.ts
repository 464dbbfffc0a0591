import { PbxError } from '../../core/errors';
import { joinPath, pathParam } from '../../core/http';
import type { ProviderContext } from '../../core/provider';
import type { ActionResult, OperationName } from '../../core/types';

export type Json = Record<string, unknown>;
type Query = Record<string, string | undefined>;

/** One 3CX WebAPI account: `GET {baseUrl}/{accessKey}/{method}?{params}`, answered with JSON. */
export class WebApi {
  constructor(private readonly ctx: ProviderContext) {}

  /** A status read: transient failures are retried. */
  read(operation: string, method: string, query: Query = {}): Promise<Json> {
    return this.send(operation, method, query, false);
  }

  /**
   * A state-changing call: sent once. Its payload is `{ ok: true, operation }` and the parameters
   * in `used` that are set.
   */
  async change(operation: OperationName, method: string, query: Query, used: Json): Promise<ActionResult> {
    const raw = await this.send(operation, method, query, true);
    const payload: Json = { ok: true, operation };
    for (const [k, v] of Object.entries(used)) if (v !== undefined) payload[k] = v;
    return { payload, raw };
  }

  /** Anything but a JSON answer, and `{"result": false}`, is a failure. */
  private async send(operation: string, method: string, query: Query, stateChanging: boolean): Promise<Json> {
    const accessKey = this.ctx.settings.credentials.accessKey;
    if (!accessKey) throw new PbxError('auth_failed', 'no access key set in the pbx-config node');
    const res = await this.ctx.http.send({
      method: 'GET',
      path: joinPath(pathParam('accessKey', accessKey), method),
      query,
      operation,
      stateChanging,
    });
    const data = res.data;
    if (typeof data !== 'object' || data === null) {
      throw new PbxError('provider_error', `${operation}: 3CX WebAPI ${method} answered with a body that is not JSON`, {
        status: res.status,
      });
    }
    if ((data as Json).result === false) {
      throw new PbxError('provider_error', `${operation}: 3CX WebAPI ${method} answered result false`, { status: res.status });
    }
    return data as Json;
  }
}
